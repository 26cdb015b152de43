using Gateway.Plugins.Caching;
using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>RFC 9111 §5.2: Cache-Control as the cache reads it.</summary>
public sealed class CacheControlTests
{
    [Fact]
    public void Directives_AreReadCaseInsensitively_AcrossFieldLines()
    {
        var parsed = CacheControl.Parse(new[] { "Public, MAX-AGE=60", "s-maxage=30, must-revalidate, stale-while-revalidate=5" });

        Assert.True(parsed.Public);
        Assert.True(parsed.MustRevalidate);
        Assert.Equal((60, 30, 5), (parsed.MaxAge, parsed.SharedMaxAge, parsed.StaleWhileRevalidate));
        Assert.Equal(CacheControl.Absent, parsed.MaxStale);
    }

    [Theory]
    [InlineData("max-age=60, max-age=10", 60)]
    [InlineData("max-age=\"60\"", 60)]
    [InlineData("max-age=abc", 0)]
    [InlineData("max-age=3600.5", 3600)]
    [InlineData("max-age=99999999999", CacheControl.MaxDelta)]
    [InlineData("max-age =60", CacheControl.Absent)]
    public void MaxAge_FirstValueCounts_AndAMalformedOneIsConservative(string header, int maxAge) =>
        Assert.Equal(maxAge, CacheControl.Parse(header).MaxAge);

    [Fact]
    public void QualifiedNoCacheAndPrivate_NameTheirFields_AndACommaInsideQuotesDoesNotSplit()
    {
        var parsed = CacheControl.Parse("no-cache=\"set-cookie, x-secret\", private=\"x-user\", max-age=5");

        Assert.Equal(["set-cookie", "x-secret"], parsed.NoCacheFields!);
        Assert.Equal(["x-user"], parsed.PrivateFields!);
        Assert.Equal(5, parsed.MaxAge);
    }

    [Theory]
    [InlineData(null, "no-cache", true)]
    [InlineData(null, "x, no-cache", true)]
    [InlineData("max-age=5", "no-cache", false)]
    [InlineData(null, null, false)]
    public void Pragma_NoCache_CountsOnlyWithoutCacheControl(string? cacheControl, string? pragma, bool noCache)
    {
        IHeaderDictionary headers = new HeaderDictionary();
        if (cacheControl is not null)
        {
            headers.CacheControl = cacheControl;
        }
        if (pragma is not null)
        {
            headers.Pragma = pragma;
        }

        Assert.Equal(noCache, CacheControl.OfRequest(headers).NoCache);
    }
}

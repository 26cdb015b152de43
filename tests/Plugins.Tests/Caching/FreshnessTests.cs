using Gateway.Plugins.Caching;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>RFC 9111 §4.2, §4.2.4 and the request directives of §5.2.1, against one stored response a minute fresh.</summary>
public sealed class FreshnessTests
{
    private static Usability Judge(long age, string requestDirectives = "", StoredFlags flags = StoredFlags.None, long staleWhileRevalidate = 0) =>
        Freshness.Judge(Stored.Response(flags: flags, staleWhileRevalidate: staleWhileRevalidate), age, CacheControl.Parse(requestDirectives));

    [Theory]
    [InlineData(0, "", "Fresh")]
    [InlineData(59_999, "", "Fresh")]
    [InlineData(60_000, "", "Revalidate")]
    [InlineData(30_000, "max-age=10", "Revalidate")]
    [InlineData(30_000, "max-age=30", "Fresh")]
    [InlineData(30_000, "min-fresh=31", "Revalidate")]
    [InlineData(30_000, "min-fresh=30", "Fresh")]
    [InlineData(30_000, "no-cache", "Revalidate")]
    [InlineData(90_000, "max-stale=30", "Stale")]
    [InlineData(90_001, "max-stale=30", "Revalidate")]
    public void RequestDirectives_NarrowOrWidenWhatMayServe(long age, string request, string expected) =>
        Assert.Equal(expected, Judge(age, request).ToString());

    [Fact]
    public void MustRevalidate_IsNeverServedStale_WhateverTheRequestAllows() =>
        Assert.Equal(Usability.Revalidate, Judge(61_000, "max-stale=3600", StoredFlags.MustRevalidate));

    [Fact]
    public void NoCache_IsRevalidatedEvenWhenFresh() =>
        Assert.Equal(Usability.Revalidate, Judge(0, "", StoredFlags.NoCache));

    [Theory]
    [InlineData(61_000, "StaleWhileRevalidating")]
    [InlineData(70_000, "Revalidate")]
    public void StaleWhileRevalidate_HoldsForItsWindowAfterTheLifetime(long age, string expected) =>
        Assert.Equal(expected, Judge(age, staleWhileRevalidate: 10_000).ToString());

    [Theory]
    [InlineData(30_000, "", 0, "None", true)]
    [InlineData(30_000, "", 0, "NoCache", false)]
    [InlineData(70_000, "", 0, "None", false)]
    [InlineData(70_000, "", 10_000, "None", true)]
    [InlineData(70_000, "stale-if-error=10", 0, "None", true)]
    [InlineData(70_000, "stale-if-error=9", 0, "None", false)]
    [InlineData(70_000, "", 60_000, "MustRevalidate", false)]
    public void AFailingOrigin_IsAnsweredForByAStaleCopy_OnlyWhereAllowed(long age, string request, long staleOnError, string flags, bool allowed) =>
        Assert.Equal(allowed, Freshness.MayServeOnError(Stored.Response(flags: Enum.Parse<StoredFlags>(flags)), age, CacheControl.Parse(request), staleOnError, disconnected: false));

    // RFC 9111 §4.2.4: a disconnected cache may serve stale, unless a directive of the response forbids it
    // (must-revalidate, proxy-revalidate and s-maxage are all stored as MustRevalidate; no-cache as NoCache).
    [Theory]
    [InlineData(3_600_000, "None", true)]
    [InlineData(3_600_000, "HasValidator", true)]
    [InlineData(3_600_000, "MustRevalidate", false)]
    [InlineData(3_600_000, "NoCache", false)]
    [InlineData(30_000, "NoCache", false)]
    public void AnUnreachableOrigin_IsAnsweredForByAStaleCopy_UnlessADirectiveForbids(long age, string flags, bool allowed) =>
        Assert.Equal(allowed, Freshness.MayServeOnError(Stored.Response(flags: Enum.Parse<StoredFlags>(flags)), age, CacheControl.Parse(""), 0, disconnected: true));
}

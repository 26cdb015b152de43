using Gateway.Plugins.Caching;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>RFC 9110 §5.6.7: the three forms of an HTTP-date, exactly as the grammar spells them, and nothing else.</summary>
public sealed class HttpDateTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z")]
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z")]
    [InlineData("Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z")]
    [InlineData("Sun Nov 16 08:49:37 1994", "1994-11-16T08:49:37Z")]
    [InlineData("Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z")]
    [InlineData("Wed, 31 Dec 2025 23:59:60 GMT", "2025-12-31T23:59:59Z")]
    // A two-digit year more than 50 years ahead of 2026 is in the past century.
    [InlineData("Friday, 01-Jan-76 00:00:00 GMT", "2076-01-01T00:00:00Z")]
    [InlineData("Friday, 01-Jan-77 00:00:00 GMT", "1977-01-01T00:00:00Z")]
    public void ValidForms_Parse(string text, string expected)
    {
        Assert.True(HttpDate.TryParse(text, out var parsed, Now));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeMilliseconds(parsed));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 UTC")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 gmt")]
    [InlineData("sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 nov 1994 08:49:37 GMT")]
    [InlineData("Sun,  06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06  Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 6 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06-Nov-1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 8:49:37 GMT")]
    [InlineData("Sun, 06 Nov 94 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49 GMT")]
    [InlineData("Sun, 06 Nov 1994 24:00:00 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:60:00 GMT")]
    [InlineData("Sun, 31 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT ")]
    [InlineData(" Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sunday, 06 Nov 94 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-94 08:49:37")]
    [InlineData("Sun, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov 6 08:49:37 1994")]
    [InlineData("Sun Nov  6 08:49:37 94")]
    [InlineData("Sun Nov  6 8:49:37 1994")]
    [InlineData("1994-11-06T08:49:37Z")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 +0000")]
    public void AnythingElse_IsNotADate(string text) => Assert.False(HttpDate.TryParse(text, out _, Now));

    [Fact]
    public void AFieldOnSeveralLines_IsNotADate() =>
        Assert.Null(HttpDate.Parse(new Microsoft.Extensions.Primitives.StringValues(["Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT"])));
}

using Gateway.Plugins.Caching;
using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>RFC 9110 §13.1.2 and §13.2.2: whether a client already holds the stored response.</summary>
public sealed class ConditionalRequestsTests
{
    [Theory]
    [InlineData("\"v1\"", "\"v1\"", true)]
    [InlineData("\"v1\"", "W/\"v1\"", true)]
    [InlineData("W/\"v1\"", "\"v1\"", true)]
    [InlineData("\"v1\"", "\"v2\", \"v1\"", true)]
    [InlineData("\"v1\"", "*", true)]
    [InlineData("\"v1\"", "\"v2\"", false)]
    [InlineData("\"v1\"", "v1", false)]
    // A comma is a valid etagc: the tag is one, not two halves of a list.
    [InlineData("\"a,b\"", "\"a,b\"", true)]
    [InlineData("\"a,b\"", "\"x\", \"a,b\"", true)]
    [InlineData("\"a,b\"", "\"a\"", false)]
    public void IfNoneMatch_MatchesByWeakComparison(string stored, string ifNoneMatch, bool matches) =>
        Assert.Equal(matches, ConditionalRequests.WeakMatch(ifNoneMatch, stored));

    [Fact]
    public void IfNoneMatch_Decides_WhenBothConditionsAreSent()
    {
        var stored = Stored.Response(headers: [("ETag", "\"v1\""), ("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT")]);
        var request = new HeaderDictionary
        {
            ["If-None-Match"] = "\"v2\"",
            ["If-Modified-Since"] = "Wed, 02 Dec 2026 10:00:00 GMT",
        };

        Assert.False(ConditionalRequests.ClientHasIt(request, stored));
    }

    [Theory]
    [InlineData("Wed, 02 Dec 2026 10:00:00 GMT", true)]
    [InlineData("Tue, 01 Dec 2026 10:00:00 GMT", true)]
    [InlineData("Mon, 30 Nov 2026 10:00:00 GMT", false)]
    [InlineData("not a date", false)]
    public void IfModifiedSince_ComparesWithLastModified(string since, bool has)
    {
        var stored = Stored.Response(headers: [("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT"), ("Date", "Fri, 04 Dec 2026 10:00:00 GMT")]);

        Assert.Equal(has, ConditionalRequests.ClientHasIt(new HeaderDictionary { ["If-Modified-Since"] = since }, stored));
    }

    [Fact]
    public void IfModifiedSince_FallsBackToDate_WithoutLastModified()
    {
        var stored = Stored.Response(headers: [("Date", "Tue, 01 Dec 2026 10:00:00 GMT")]);

        Assert.True(ConditionalRequests.ClientHasIt(new HeaderDictionary { ["If-Modified-Since"] = "Tue, 01 Dec 2026 10:00:00 GMT" }, stored));
    }
}

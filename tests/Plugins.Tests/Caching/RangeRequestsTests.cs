using Gateway.Plugins.Caching;
using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>RFC 9110 §13.1.5 and §14.2: when a range is cut from a stored response, and which.</summary>
public sealed class RangeRequestsTests
{
    private static RangeRequests.Answer Evaluate(string range, string? ifRange, string lastModified, out int offset, out int count)
    {
        var headers = new HeaderDictionary { ["Range"] = range };
        if (ifRange is not null)
        {
            headers["If-Range"] = ifRange;
        }
        var stored = Stored.Response(headers: [("Last-Modified", lastModified), ("Date", "Fri, 04 Dec 2026 10:00:00 GMT")]) with { Body = "0123456789"u8.ToArray() };
        return RangeRequests.Evaluate(headers, stored, out offset, out count);
    }

    [Theory]
    // A date validator is strong only when it is at least a second before the response's Date.
    [InlineData("Fri, 04 Dec 2026 09:00:00 GMT", "Fri, 04 Dec 2026 09:00:00 GMT", "Partial")]
    [InlineData("Fri, 04 Dec 2026 10:00:00 GMT", "Fri, 04 Dec 2026 10:00:00 GMT", "Whole")]
    [InlineData("Fri, 04 Dec 2026 08:00:00 GMT", "Fri, 04 Dec 2026 09:00:00 GMT", "Whole")]
    [InlineData("not a date", "Fri, 04 Dec 2026 09:00:00 GMT", "Whole")]
    public void IfRange_WithADate_MatchesOnlyAStrongLastModified(string ifRange, string lastModified, string answer) =>
        Assert.Equal(answer, Evaluate("bytes=0-1", ifRange, lastModified, out _, out _).ToString());

    [Theory]
    [InlineData("bytes=0-0", 0, 1)]
    [InlineData("bytes=9-9", 9, 1)]
    [InlineData("bytes=-10", 0, 10)]
    [InlineData("bytes=-20", 0, 10)]
    [InlineData("bytes=3-", 3, 7)]
    public void ASingleRange_IsCutToTheRepresentation(string range, int offset, int count)
    {
        Assert.Equal(RangeRequests.Answer.Partial, Evaluate(range, null, "Fri, 04 Dec 2026 09:00:00 GMT", out var from, out var length));
        Assert.Equal((offset, count), (from, length));
    }

    [Theory]
    [InlineData("bytes=10-", "Unsatisfiable")]
    [InlineData("bytes=-0", "Unsatisfiable")]
    [InlineData("bytes=5-2", "Whole")] // not a valid range: the header is ignored
    [InlineData("bytes", "Whole")]
    public void OthersAreUnsatisfiable_OrIgnored(string range, string answer) =>
        Assert.Equal(answer, Evaluate(range, null, "Fri, 04 Dec 2026 09:00:00 GMT", out _, out _).ToString());
}

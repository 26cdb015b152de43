using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Range requests answered from a complete stored <c>200</c> (RFC 9110 §14, RFC 9111 §3.4): one byte range becomes a
/// <c>206</c>, one that starts past the end a <c>416</c>; several ranges, another unit, or an <c>If-Range</c> that no
/// longer matches get the whole representation, as a server may always answer.
/// </summary>
internal static class RangeRequests
{
    /// <summary>What a range request gets from a stored response.</summary>
    public enum Answer
    {
        Whole,
        Partial,
        Unsatisfiable,
    }

    /// <summary>Decides the answer; for <see cref="Answer.Partial"/>, the first byte and the count.</summary>
    public static Answer Evaluate(IHeaderDictionary request, StoredResponse stored, out int offset, out int count)
    {
        offset = 0;
        count = 0;
        if (stored.Status != StatusCodes.Status200OK || !IfRangeMatches(request, stored)
            || !RangeHeaderValue.TryParse(request.Range.ToString(), out var range)
            || !range.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1)
        {
            return Answer.Whole;
        }
        var length = stored.Body.Length;
        var only = range.Ranges.First();
        long from, to;
        if (only.From is { } start)
        {
            if (start >= length)
            {
                return Answer.Unsatisfiable;
            }
            from = start;
            to = Math.Min(only.To ?? long.MaxValue, length - 1);
        }
        else
        {
            // A suffix range: the last N bytes; none of an empty representation.
            var suffix = only.To ?? 0;
            if (suffix == 0 || length == 0)
            {
                return Answer.Unsatisfiable;
            }
            from = Math.Max(0, length - suffix);
            to = length - 1;
        }
        offset = (int)from;
        count = (int)(to - from + 1);
        return Answer.Partial;
    }

    // §13.1.5: the range applies only if the validator still identifies the stored representation: an entity tag by
    // strong comparison, or a date equal to a strong Last-Modified (one at least a second before Date).
    private static bool IfRangeMatches(IHeaderDictionary request, StoredResponse stored)
    {
        var ifRange = request.IfRange.ToString();
        if (ifRange.Length == 0)
        {
            return true;
        }
        if (ifRange.StartsWith('"') || ifRange.StartsWith("W/", StringComparison.Ordinal))
        {
            return EntityTagHeaderValue.TryParse(ifRange, out var tag) && stored.Header(HeaderNames.ETag) is { } etag
                && EntityTagHeaderValue.TryParse(etag, out var current) && tag.Compare(current, useStrongComparison: true);
        }
        return HttpDate.Parse(ifRange) is { } date
            && HttpDate.Parse(stored.Header(HeaderNames.LastModified)) is { } lastModified && lastModified == date
            && HttpDate.Parse(stored.Header(HeaderNames.Date)) is { } sent && sent - lastModified >= 1000;
    }
}

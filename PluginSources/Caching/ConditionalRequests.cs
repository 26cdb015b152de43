using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Conditional requests (RFC 9110 §13) on both sides of the cache: whether a client already has the stored response
/// (so it gets a 304), and the validators the cache sends the origin to revalidate its copy (RFC 9111 §4.3.1).
/// </summary>
internal static class ConditionalRequests
{
    // The fields a 304 carries (RFC 9110 §15.4.5), taken from the stored response.
    private static readonly HashSet<string> NotModifiedFields = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.CacheControl, HeaderNames.ContentLocation, HeaderNames.Date, HeaderNames.ETag, HeaderNames.Expires, HeaderNames.Vary,
    };

    /// <summary>Whether a 304 answering from the store carries the stored field <paramref name="name"/>.</summary>
    public static bool IsNotModifiedField(string name) => NotModifiedFields.Contains(name);

    /// <summary>
    /// RFC 9110 §13.2.2: <c>If-None-Match</c> decides when present (weak comparison, §8.8.3.2); otherwise
    /// <c>If-Modified-Since</c> against <c>Last-Modified</c>, or <c>Date</c> when there is none.
    /// </summary>
    public static bool ClientHasIt(IHeaderDictionary request, StoredResponse stored)
    {
        var ifNoneMatch = request.IfNoneMatch;
        if (!StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            return stored.Header(HeaderNames.ETag) is { } etag && WeakMatch(ifNoneMatch, etag);
        }
        if (HttpDate.Parse(request.IfModifiedSince) is { } since)
        {
            var modified = HttpDate.Parse(stored.Header(HeaderNames.LastModified)) ?? HttpDate.Parse(stored.Header(HeaderNames.Date));
            return modified is { } at && at <= since;
        }
        return false;
    }

    /// <summary>Whether any entity tag of an <c>If-None-Match</c> field, or its <c>*</c>, matches <paramref name="etag"/> by weak comparison.</summary>
    public static bool WeakMatch(StringValues ifNoneMatch, string etag)
    {
        if (!EntityTagHeaderValue.TryParse(etag, out var stored)
            || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            return false;
        }
        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(stored, useStrongComparison: false))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether the client sent conditions of its own, which then go to the origin as they are.</summary>
    public static bool IsConditional(IHeaderDictionary request) =>
        request.ContainsKey(HeaderNames.IfNoneMatch) || request.ContainsKey(HeaderNames.IfModifiedSince)
        || request.ContainsKey(HeaderNames.IfMatch) || request.ContainsKey(HeaderNames.IfUnmodifiedSince) || request.ContainsKey(HeaderNames.IfRange);

    /// <summary>Asks the origin whether the stored response is still current, by its validators.</summary>
    public static void AddValidators(IHeaderDictionary request, StoredResponse stored)
    {
        if (stored.Header(HeaderNames.ETag) is { } etag)
        {
            request.IfNoneMatch = etag;
        }
        if (stored.Header(HeaderNames.LastModified) is { } lastModified)
        {
            request.IfModifiedSince = lastModified;
        }
    }

    /// <summary>Takes the validators <see cref="AddValidators"/> added off the request again, once the origin answered.</summary>
    public static void RemoveValidators(IHeaderDictionary request)
    {
        request.Remove(HeaderNames.IfNoneMatch);
        request.Remove(HeaderNames.IfModifiedSince);
    }
}

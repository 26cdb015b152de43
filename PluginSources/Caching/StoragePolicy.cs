using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Whether a shared cache may store a response (RFC 9111 §3) and for how long it is fresh (§4.2), decided once per
/// response from its status, headers and the request that asked for it.
/// </summary>
/// <param name="targetedFields">RFC 9213 targeted cache-control fields, most specific first.</param>
/// <param name="stripTargetedFields">Whether the targeted fields are removed from responses (and so never stored).</param>
internal sealed class StoragePolicy(
    long maxBodyBytes, bool storeSetCookie, double heuristicFraction, long maxHeuristicMs, string[] ownHeaders,
    string[] targetedFields, bool stripTargetedFields)
{
    // Header fields a cache neither stores nor updates (RFC 9111 §3.1, §3.2): hop-by-hop fields, those recomputed
    // on every use, the cookie a route may let through without sharing it, and the plugin's own headers.
    private readonly HashSet<string> _notStored = new(
        [
            HeaderNames.Connection, HeaderNames.KeepAlive, "Proxy-Connection", HeaderNames.TE, HeaderNames.TransferEncoding,
            HeaderNames.Upgrade, HeaderNames.Trailer, HeaderNames.ProxyAuthenticate, HeaderNames.Age, HeaderNames.ContentLength,
            HeaderNames.SetCookie, .. ownHeaders, .. stripTargetedFields ? targetedFields : [],
        ],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>The largest body stored.</summary>
    public int MaxBodyBytes { get; } = checked((int)maxBodyBytes);

    /// <summary>
    /// Describes the response in <paramref name="http"/> as it would be stored, body aside, or returns null when it must
    /// not be stored. <paramref name="varyHeaders"/> receives the lowercased names of its <c>Vary</c> field.
    /// </summary>
    public StoredResponse? Prepare(HttpContext http, in CacheControl requestDirectives, long requestTime, long responseTime, out string[] varyHeaders)
    {
        varyHeaders = [];
        var response = http.Response;
        var headers = response.Headers;
        var status = response.StatusCode;
        // A 206 is part of a representation; a 200 is whole whatever else it carries (RFC 9111 §3.4).
        if (requestDirectives.NoStore || status is < 200 or 206 or 304)
        {
            return null;
        }
        // RFC 9213 §2.2: a targeted field, when one is valid, replaces Cache-Control and Expires for this cache.
        var targeted = TargetedDirectives(headers);
        var directives = targeted ?? CacheControl.Parse(headers.CacheControl);
        if (directives.NoStore || directives.Private)
        {
            return null;
        }
        // §3.5: a shared cache stores an answer to an authenticated request only when the origin says it may.
        if (http.Request.Headers.ContainsKey(HeaderNames.Authorization)
            && !(directives.Public || directives.SharedMaxAge != CacheControl.Absent || directives.MustRevalidate))
        {
            return null;
        }
        if ((!storeSetCookie && headers.ContainsKey(HeaderNames.SetCookie)) || response.ContentLength > maxBodyBytes)
        {
            return null;
        }
        if (!TryParseVary(headers.Vary, out varyHeaders))
        {
            return null;
        }

        var date = HttpDate.Parse(headers.Date) ?? responseTime;
        long lifetime;
        if (directives.SharedMaxAge != CacheControl.Absent)
        {
            lifetime = directives.SharedMaxAge * 1000L;
        }
        else if (directives.MaxAge != CacheControl.Absent)
        {
            lifetime = directives.MaxAge * 1000L;
        }
        else if (targeted is null && headers.ContainsKey(HeaderNames.Expires))
        {
            // An invalid Expires, such as "0", means already expired (§5.3).
            lifetime = HttpDate.Parse(headers.Expires) is { } expires ? Math.Max(0, expires - date) : 0;
        }
        else if (IsHeuristicallyCacheable(status) || directives.Public)
        {
            lifetime = HttpDate.Parse(headers.LastModified) is { } lastModified && lastModified < date
                ? Math.Min((long)((date - lastModified) * heuristicFraction), maxHeuristicMs)
                : 0;
        }
        else
        {
            return null;
        }

        var hasValidator = headers.ContainsKey(HeaderNames.ETag) || headers.ContainsKey(HeaderNames.LastModified);
        var staleWhileRevalidate = directives.StaleWhileRevalidate > 0 ? directives.StaleWhileRevalidate * 1000L : 0;
        var staleIfError = directives.StaleIfError > 0 ? directives.StaleIfError * 1000L : 0;
        // Nothing to gain from a copy that is never fresh and cannot be revalidated.
        if (!hasValidator && (lifetime == 0 || directives.NoCache))
        {
            return null;
        }

        var flags = StoredFlags.None;
        if (directives.MustRevalidate || directives.ProxyRevalidate || directives.SharedMaxAge != CacheControl.Absent)
        {
            flags |= StoredFlags.MustRevalidate;
        }
        if (directives.NoCache)
        {
            flags |= StoredFlags.NoCache;
        }
        if (hasValidator)
        {
            flags |= StoredFlags.HasValidator;
        }
        // §4.2.3: the age the response already had when it arrived.
        var apparentAge = Math.Max(0, responseTime - date);
        var correctedAge = ParseAge(headers.Age) * 1000L + Math.Max(0, responseTime - requestTime);
        return new StoredResponse
        {
            Status = status,
            ResponseTime = responseTime,
            InitialAge = Math.Max(apparentAge, correctedAge),
            FreshnessLifetime = lifetime,
            StaleWhileRevalidate = staleWhileRevalidate,
            StaleIfError = staleIfError,
            Flags = flags,
            // Fields named by private="..." are not stored; those named by no-cache="..." are not reused unvalidated,
            // which leaving them out satisfies (RFC 9111 §5.2.2.4, §5.2.2.7).
            Headers = StoredHeaders(headers, directives),
            Body = ReadOnlyMemory<byte>.Empty,
        };
    }

    /// <summary>Removes the targeted fields from a response when configured to.</summary>
    public void StripTargetedFields(IHeaderDictionary headers)
    {
        if (stripTargetedFields)
        {
            foreach (var name in targetedFields)
            {
                headers.Remove(name);
            }
        }
    }

    // The first targeted field with a valid, non-empty value; an invalid one is ignored as if absent (§2.1).
    private CacheControl? TargetedDirectives(IHeaderDictionary headers)
    {
        foreach (var name in targetedFields)
        {
            if (headers.TryGetValue(name, out var value) && StructuredDictionary.TryParse(value, out var members) && members.Count > 0)
            {
                return CacheControl.FromTargeted(members);
            }
        }
        return null;
    }

    /// <summary>
    /// The stored headers updated from a <c>304</c> that validated them (RFC 9111 §4.3.4): each field the 304 carries
    /// replaces the stored one, except those never stored.
    /// </summary>
    public KeyValuePair<string, string>[] Freshen(KeyValuePair<string, string>[] stored, IHeaderDictionary validation)
    {
        var merged = new List<KeyValuePair<string, string>>(stored.Length + 4);
        foreach (var header in stored)
        {
            if (!validation.ContainsKey(header.Key) || _notStored.Contains(header.Key))
            {
                merged.Add(header);
            }
        }
        foreach (var (name, values) in validation)
        {
            if (!_notStored.Contains(name))
            {
                foreach (var value in values)
                {
                    merged.Add(new(name, value ?? ""));
                }
            }
        }
        return [.. merged];
    }

    private KeyValuePair<string, string>[] StoredHeaders(IHeaderDictionary headers, in CacheControl directives)
    {
        // Fields named by private="..." or no-cache="..." are withheld. Those the origin's Connection named never get
        // here: the gateway removes them from every response before any stage sees it.
        var withheld = new HashSet<string>(directives.PrivateFields ?? [], StringComparer.OrdinalIgnoreCase);
        withheld.UnionWith(directives.NoCacheFields ?? []);
        var stored = new List<KeyValuePair<string, string>>(headers.Count);
        foreach (var (name, values) in headers)
        {
            if (_notStored.Contains(name) || withheld.Contains(name))
            {
                continue;
            }
            foreach (var value in values)
            {
                stored.Add(new(name, value ?? ""));
            }
        }
        return [.. stored];
    }

    /// <summary>The lowercased, distinct, sorted field names of <c>Vary</c>; false for <c>Vary: *</c>, which nothing matches.</summary>
    public static bool TryParseVary(StringValues vary, out string[] names)
    {
        names = [];
        if (StringValues.IsNullOrEmpty(vary))
        {
            return true;
        }
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var value in vary)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (token == "*")
                {
                    return false;
                }
                set.Add(token.ToLowerInvariant());
            }
        }
        names = [.. set];
        return true;
    }

    // §4.2.2: statuses a cache may give heuristic freshness.
    private static bool IsHeuristicallyCacheable(int status) => status is 200 or 203 or 204 or 300 or 301 or 308 or 404 or 405 or 410 or 414 or 501;

    /// <summary>
    /// RFC 9111 §5.1: the first member of <c>Age</c> counts (a list, or several lines, is read as one list), and is
    /// ignored, as if absent, unless it is delta-seconds; a value past 2^31 counts as 2^31.
    /// </summary>
    public static long ParseAge(StringValues field)
    {
        if (StringValues.IsNullOrEmpty(field))
        {
            return 0;
        }
        var first = (field[0] ?? "").AsSpan();
        var comma = first.IndexOf(',');
        var member = (comma < 0 ? first : first[..comma]).Trim(" \t");
        if (member.IsEmpty || member.ContainsAnyExceptInRange('0', '9'))
        {
            return 0;
        }
        return long.TryParse(member, System.Globalization.NumberStyles.None, null, out var age) ? Math.Min(age, MaxAge) : MaxAge;
    }

    private const long MaxAge = 1L << 31;
}

using System.Text.Json;

namespace Gateway.Plugins.Caching;

/// <summary>The plugin's <c>config</c>. Every member is optional.</summary>
public sealed record CachingOptions
{
    /// <summary>The largest body stored; larger responses stream through uncached. Default 1 MiB.</summary>
    public int? MaxBodyBytes { get; init; }

    /// <summary>What besides method, host and path tells stored responses apart.</summary>
    public CacheKeyOptions? Key { get; init; }

    /// <summary>Store responses that carry <c>Set-Cookie</c> (the cookie itself is never stored). Default false.</summary>
    public bool? StoreSetCookie { get; init; }

    /// <summary>How long concurrent misses for one key wait for the request that went upstream. Default 5000.</summary>
    public int? LockTimeoutMs { get; init; }

    /// <summary>How long a response is kept once stale, for revalidation and <c>max-stale</c> requests. Default 600.</summary>
    public int? KeepStaleSeconds { get; init; }

    /// <summary>
    /// How long past its lifetime a stored response may answer when the upstream fails (an error status, or unreachable
    /// with <see cref="StaleOnDisconnect"/> off), besides what <c>stale-if-error</c> allows; never for
    /// <c>must-revalidate</c> or <c>no-cache</c> responses. Default 0.
    /// </summary>
    public int? StaleOnErrorSeconds { get; init; }

    /// <summary>
    /// Whether a stale stored response answers when no upstream did (unreachable, timed out, no destination), as RFC 9111
    /// §4.2.4 allows a disconnected cache; never for <c>must-revalidate</c>, <c>proxy-revalidate</c>, <c>s-maxage</c> or
    /// <c>no-cache</c> responses, and only while the entry is kept (<see cref="KeepStaleSeconds"/>). An error status
    /// the upstream sent is not a disconnection. Default true.
    /// </summary>
    public bool? StaleOnDisconnect { get; init; }

    /// <summary>The share of the time since <c>Last-Modified</c> used as heuristic freshness (RFC 9111 §4.2.2). Default 0.1.</summary>
    public double? HeuristicFraction { get; init; }

    /// <summary>The longest heuristic freshness, in seconds. Default 86400.</summary>
    public int? MaxHeuristicSeconds { get; init; }

    /// <summary>
    /// With Redis: how long this node keeps its own copy of an entry it read or wrote, so hot keys are not read from
    /// Redis on every request; 0 for none. Default 1.
    /// </summary>
    public int? LocalSeconds { get; init; }

    /// <summary>The most bytes of entries this node keeps its own copy of. Default 64 MiB.</summary>
    public int? LocalMaxBytes { get; init; }

    /// <summary>The response header that says HIT, MISS, STALE, REVALIDATED or BYPASS; empty for none. Default <c>X-Cache</c>.</summary>
    public string? StatusHeader { get; init; }

    /// <summary>
    /// The upstream response header that tags a response for purging by tag (comma- or space-separated), taken off the
    /// response before it reaches the client; empty for none. Default <c>Cache-Tag</c>.
    /// </summary>
    public string? TagHeader { get; init; }

    /// <summary>A response header that carries the cache key, for purging by key; none unless given.</summary>
    public string? KeyHeader { get; init; }

    /// <summary>
    /// Targeted cache-control fields (RFC 9213), most specific first: the first one a response carries with a valid,
    /// non-empty value decides how this cache stores it, and <c>Cache-Control</c> and <c>Expires</c> are then ignored
    /// here (they still reach the client). Default <c>["CDN-Cache-Control"]</c>; put your own first, e.g.
    /// <c>["Gateway-Cache-Control", "CDN-Cache-Control"]</c>; <c>[]</c> for none.
    /// </summary>
    public string[]? TargetedFields { get; init; }

    /// <summary>Remove the targeted fields from responses, so clients and caches further down do not see them. Default false.</summary>
    public bool? StripTargetedFields { get; init; }
}

/// <summary>The parts of a request that make up its cache key besides method, host and path.</summary>
public sealed record CacheKeyOptions
{
    /// <summary><c>"all"</c> (the default): the whole query string; <c>"none"</c>; or a list of parameter names.</summary>
    public JsonElement? Query { get; init; }

    /// <summary>Request headers whose values are part of the key.</summary>
    public string[]? Headers { get; init; }

    /// <summary><c>vars</c> entries whose values are part of the key, such as the A/B variant or the auth consumer.</summary>
    public string[]? Vars { get; init; }
}

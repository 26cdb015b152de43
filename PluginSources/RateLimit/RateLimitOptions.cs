namespace Gateway.Plugins.RateLimit;

/// <summary>The plugin's <c>config</c>.</summary>
public sealed record RateLimitOptions
{
    /// <summary>
    /// <c>local</c> (the default): counted in this node's memory; <c>redis</c>: counted in the gateway's Redis, shared
    /// by every node (needs <c>ConnectionStrings:Redis</c>).
    /// </summary>
    public string? Store { get; init; }

    /// <summary>With <c>redis</c>, while Redis cannot be reached: true (the default) counts on each node locally; false refuses with 503.</summary>
    public bool? FailOpen { get; init; }

    /// <summary>The limits; a request must be within every one that applies to it.</summary>
    public LimitOptions[]? Limits { get; init; }

    /// <summary>Whether allowed responses carry <c>RateLimit-Policy</c> and <c>RateLimit</c> too (refusals always do). Default true.</summary>
    public bool? Headers { get; init; }
}

/// <summary>One limit: what it counts by, and one algorithm.</summary>
public sealed record LimitOptions
{
    /// <summary>
    /// What the limit counts by: <c>clientIp</c>, <c>route</c>, <c>header:NAME</c>, <c>var:NAME</c>, or several joined
    /// with <c>+</c> (<c>clientIp+route</c>).
    /// </summary>
    public string? Key { get; init; }

    /// <summary>The name in the <c>RateLimit-Policy</c> and <c>RateLimit</c> headers. Default: the limit's position, "0", "1"...</summary>
    public string? Name { get; init; }

    /// <summary>A token bucket: <c>rate</c> tokens added per <c>per</c>, holding at most <c>burst</c>.</summary>
    public TokenBucketOptions? TokenBucket { get; init; }

    /// <summary>A sliding window: at most <c>limit</c> requests in any <c>per</c>.</summary>
    public WindowOptions? Window { get; init; }
}

/// <summary>A token bucket's parameters.</summary>
public sealed record TokenBucketOptions
{
    /// <summary>Tokens added per <see cref="Per"/>.</summary>
    public int Rate { get; init; }

    /// <summary>The period <see cref="Rate"/> is counted in, e.g. <c>00:00:01</c>.</summary>
    public TimeSpan Per { get; init; }

    /// <summary>The most tokens the bucket holds: how many requests may come at once. Default <see cref="Rate"/>.</summary>
    public int? Burst { get; init; }
}

/// <summary>A sliding window's parameters.</summary>
public sealed record WindowOptions
{
    /// <summary>The most requests in any window.</summary>
    public int Limit { get; init; }

    /// <summary>The window's length, e.g. <c>1.00:00:00</c> for a day.</summary>
    public TimeSpan Per { get; init; }
}

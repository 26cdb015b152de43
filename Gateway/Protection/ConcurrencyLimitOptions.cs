namespace Gateway.Protection;

/// <summary>
/// One <c>Gateway:ConcurrencyLimits:&lt;name&gt;</c> policy, which a route takes with <c>"RateLimiterPolicy": "&lt;name&gt;"</c>:
/// at most <see cref="PermitLimit"/> of the route's requests at once, <see cref="QueueLimit"/> more waiting.
/// </summary>
public sealed record ConcurrencyLimitOptions
{
    /// <summary>How many of a route's requests may be in flight at once.</summary>
    public int PermitLimit { get; init; }

    /// <summary>How many more may wait for one to finish, oldest first; past that a request gets 503 at once.</summary>
    public int QueueLimit { get; init; }
}

namespace Gateway.Caching;

/// <summary>The <c>Gateway:Cache</c> section: how long the gateway waits for Redis before serving without it.</summary>
public sealed record CacheOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:Cache";

    /// <summary>The longest a request waits on one cache operation; past it the request goes on uncached.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a connection attempt may take; reconnection goes on in the background.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);
}

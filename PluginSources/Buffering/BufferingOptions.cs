namespace Gateway.Plugins.Buffering;

/// <summary>The plugin's <c>config</c>. Every member is optional.</summary>
public sealed record BufferingOptions
{
    /// <summary>The most of one answer held in memory; past it the answer streams as if unbuffered. Default 1 MiB.</summary>
    public int? MaxBytes { get; init; }

    /// <summary>The most held at once by this entry over all its requests; past it new answers stream unbuffered. Default 64 MiB.</summary>
    public long? MaxTotalBytes { get; init; }
}

namespace Gateway.Plugins.Compression;

/// <summary>The plugin's <c>config</c>. Every member is optional.</summary>
public sealed record CompressionOptions
{
    /// <summary>Bodies shorter than this (by <c>Content-Length</c>) go as they are. Default 1024.</summary>
    public int? MinBytes { get; init; }

    /// <summary>
    /// The media types compressed: exact (<c>application/json</c>) or a type's every subtype (<c>text/*</c>).
    /// Default text, JSON, XML, JavaScript, SVG and the <c>+json</c>/<c>+xml</c> families.
    /// </summary>
    public string[]? Types { get; init; }

    /// <summary>The encodings offered, the gateway's preference first: <c>br</c>, <c>gzip</c>. Default both, in that order.</summary>
    public string[]? Encodings { get; init; }

    /// <summary><c>fastest</c> (the default: a gateway compresses on every request) or <c>optimal</c>.</summary>
    public string? Level { get; init; }
}

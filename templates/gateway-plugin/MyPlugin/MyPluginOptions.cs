namespace MyPlugin;

/// <summary>The entry's <c>config</c> in plugins.json, bound with camelCase names; unknown fields are refused.</summary>
public sealed record MyPluginOptions
{
    /// <summary>The request header to set on the way to the origin.</summary>
    public string Header { get; init; } = "x-myplugin";

    /// <summary>Its value; also sent back to the client in <c>{Header}-seen</c>.</summary>
    public required string Value { get; init; }
}

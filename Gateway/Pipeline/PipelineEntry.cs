using System.Collections.Immutable;
using System.Text.Json;

namespace Gateway.Pipeline;

/// <summary>What kind of stage a <c>plugins.json</c> entry declares.</summary>
internal enum StageKind
{
    Plugin,
    Script,
}

/// <summary>One validated entry of <c>plugins.json</c>.</summary>
/// <param name="Index">Its position in the <c>pipeline</c> array.</param>
/// <param name="Kind">Plugin or script.</param>
/// <param name="Name">The plugin name, or the script's path as written.</param>
/// <param name="Routes">The route ids it runs on; empty means every route.</param>
/// <param name="Enabled">False keeps the entry listed but skips it.</param>
/// <param name="Config">Its <c>config</c> object, with <c>${env:NAME}</c> replaced; detached from the file's document.</param>
internal sealed record PipelineEntry(
    int Index,
    StageKind Kind,
    string Name,
    ImmutableArray<string> Routes,
    bool Enabled,
    JsonElement Config)
{
    /// <summary>The JSON path of the entry in the file.</summary>
    public string Path => PathOf(Index);

    /// <summary>How errors and logs name the entry: <c>pipeline[2] (plugin "Auth")</c>.</summary>
    public string DisplayName => Describe(Index, Kind, Name);

    /// <summary>The JSON path of the entry at <paramref name="index"/>.</summary>
    public static string PathOf(int index) => $"$.pipeline[{index}]";

    /// <summary>How errors and logs name an entry, also one the file did not give a name.</summary>
    public static string Describe(int index, StageKind kind, string? name) =>
        name is null ? $"pipeline[{index}]" : $"pipeline[{index}] ({(kind == StageKind.Plugin ? "plugin" : "script")} \"{name}\")";

    /// <summary>Whether the entry applies to every route.</summary>
    public bool AllRoutes => Routes.IsEmpty;

    /// <summary>The file gave it problems of its own (an unknown property, an unset variable): it is not built.</summary>
    public bool HasOwnErrors { get; init; }
}

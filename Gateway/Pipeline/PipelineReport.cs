using System.Text.Json.Serialization;

namespace Gateway.Pipeline;

/// <summary>
/// The serving pipeline as <c>GET /admin/pipeline</c> and a successful reload show it. <c>PipelineHash</c> is what the
/// node serves (<see cref="Pipeline.PipelineHash"/>); <c>Retiring</c> counts the generations replaced and not yet
/// drained, unloaded and collected.
/// </summary>
internal sealed record PipelineReport(int Generation, DateTimeOffset LoadedAt, string PipelineHash, int Retiring, IReadOnlyList<EntryReport> Entries)
{
    public static PipelineReport From(PipelineSnapshot snapshot, int retiring)
    {
        var stages = snapshot.Stages.ToDictionary(stage => stage.Entry.Index);
        return new PipelineReport(
            snapshot.Generation,
            snapshot.LoadedAt,
            snapshot.Hash,
            retiring,
            snapshot.Entries.Select(entry => EntryReport.From(entry, stages.GetValueOrDefault(entry.Index))).ToArray());
    }
}

/// <summary>
/// One entry: what it is, where it runs, and what it has done in this generation. A plugin has a version (and its own
/// counters when it reports some); a script has the hash of the file that is serving, a count of calls stopped by a
/// sandbox bound (also counted in errors) and of the engines it has made.
/// </summary>
internal sealed record EntryReport(
    int Index,
    string Kind,
    string Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Hash,
    IReadOnlyList<string>? Routes,
    bool Enabled,
    long Calls,
    long Errors,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Breaches,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? EnginesCreated,
    double TimeSpentMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastError,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, long>? Counters)
{
    public static EntryReport From(PipelineEntry entry, PipelineStage? stage)
    {
        var isScript = entry.Kind == StageKind.Script;
        return new(
            entry.Index,
            isScript ? "script" : "plugin",
            entry.Name,
            stage?.Version,
            stage?.Hash,
            entry.AllRoutes ? null : entry.Routes,
            entry.Enabled,
            stage?.Counters.Calls ?? 0,
            stage?.Counters.Errors ?? 0,
            isScript ? stage?.Sandbox?.Breaches ?? 0 : null,
            isScript ? stage?.Sandbox?.EnginesCreated ?? 0 : null,
            stage?.Counters.TimeSpent.TotalMilliseconds ?? 0,
            stage?.Counters.LastError,
            OwnCounters(stage));
    }

    // A plugin's own code: one that throws here costs its counters in the report, not the report.
    private static IReadOnlyDictionary<string, long>? OwnCounters(PipelineStage? stage)
    {
        try
        {
            return stage?.OwnCounters?.Counters.ToDictionary(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }
}

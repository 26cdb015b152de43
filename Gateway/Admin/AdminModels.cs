using Gateway.Pipeline;

namespace Gateway.Admin;

/// <summary>What <c>GET /admin/pipeline</c> and a successful reload return.</summary>
internal sealed record PipelineView(int Generation, DateTimeOffset LoadedAt, IReadOnlyList<StageView> Entries)
{
    public static PipelineView From(PipelineSnapshot snapshot)
    {
        var stages = snapshot.Stages.ToDictionary(stage => stage.Entry.Index);
        return new PipelineView(
            snapshot.Generation,
            snapshot.LoadedAt,
            snapshot.Entries.Select(entry => StageView.From(entry, stages.GetValueOrDefault(entry.Index))).ToArray());
    }
}

/// <summary>One entry: what it is, where it runs, and what it has done in this generation.</summary>
internal sealed record StageView(
    int Index,
    string Kind,
    string Name,
    string? Version,
    IReadOnlyList<string>? Routes,
    bool Enabled,
    long Calls,
    long Errors,
    double TimeSpentMs)
{
    public static StageView From(PipelineEntry entry, PipelineStage? stage) => new(
        entry.Index,
        entry.Kind == StageKind.Plugin ? "plugin" : "script",
        entry.Name,
        stage?.Version,
        entry.AllRoutes ? null : entry.Routes,
        entry.Enabled,
        stage?.Counters.Calls ?? 0,
        stage?.Counters.Errors ?? 0,
        stage?.Counters.TimeSpent.TotalMilliseconds ?? 0);
}

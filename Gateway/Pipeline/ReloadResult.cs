using System.Collections.Immutable;

namespace Gateway.Pipeline;

/// <summary>The outcome of a reload: the snapshot now serving, or why nothing changed.</summary>
internal sealed record ReloadResult(PipelineSnapshot? Snapshot, ImmutableArray<PipelineError> Errors)
{
    public bool Succeeded => Snapshot is not null;

    public static ReloadResult Success(PipelineSnapshot snapshot) => new(snapshot, []);

    public static ReloadResult Failure(ImmutableArray<PipelineError> errors) => new(null, errors);
}

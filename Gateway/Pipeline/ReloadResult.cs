using System.Collections.Immutable;

namespace Gateway.Pipeline;

/// <summary>The outcome of a reload: the pipeline now serving, or why nothing changed.</summary>
internal sealed record ReloadResult(PipelineReport? Pipeline, ImmutableArray<PipelineError> Errors)
{
    public bool Succeeded => Pipeline is not null;

    public static ReloadResult Success(PipelineReport pipeline) => new(pipeline, []);

    public static ReloadResult Failure(ImmutableArray<PipelineError> errors) => new(null, errors);
}

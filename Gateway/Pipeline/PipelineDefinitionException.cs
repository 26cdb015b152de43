namespace Gateway.Pipeline;

/// <summary>A pipeline that cannot be built; carries every error found, not just the first.</summary>
internal sealed class PipelineDefinitionException(IReadOnlyList<PipelineError> errors)
    : Exception("The pipeline was rejected: " + string.Join("; ", errors))
{
    public IReadOnlyList<PipelineError> Errors { get; } = errors;
}

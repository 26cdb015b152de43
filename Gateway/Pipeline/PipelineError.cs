namespace Gateway.Pipeline;

/// <summary>Why a reload was rejected, pointing at the culprit.</summary>
/// <param name="Entry">The entry, as <see cref="PipelineEntry.DisplayName"/>; null for file-level errors.</param>
/// <param name="Path">The JSON path in the pipeline file (or the file and line for syntax errors).</param>
/// <param name="Message">What is wrong.</param>
internal sealed record PipelineError(string? Entry, string Path, string Message)
{
    public override string ToString() => Entry is null ? $"{Path}: {Message}" : $"{Entry} at {Path}: {Message}";
}

namespace Gateway.Pipeline;

/// <summary>The stage where a request's exception started (null if outside any stage), and the exception.</summary>
internal sealed record StageFault(PipelineStage? Stage, Exception Exception);

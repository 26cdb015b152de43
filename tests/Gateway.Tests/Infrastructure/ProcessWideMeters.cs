namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Tests that read exported metrics run alone, after the others: OpenTelemetry selects meters by name, so a gateway's
/// exporter also reads the same-named meters of every other gateway and origin alive in the test process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMeters
{
    public const string Name = "Process-wide meters";
}

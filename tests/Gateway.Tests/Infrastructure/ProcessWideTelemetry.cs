namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Tests that read exported metrics or spans run alone, after the others: OpenTelemetry selects meters and activity
/// sources by name, so a gateway's exporter also reads the same-named meters and sources of every other gateway and
/// origin alive in the test process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTelemetry
{
    public const string Name = "Process-wide telemetry";
}

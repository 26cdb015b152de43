using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Telemetry;

/// <summary>Tracing settings that cannot work fail the start, naming the setting. No tracer runs, so these run alongside the rest.</summary>
public sealed class TracingSettingsTests
{
    [Theory]
    [InlineData("5")]
    [InlineData("-0.1")]
    public async Task ASampleRatioOutOfRange_FailsTheStart(string ratio)
    {
        var (exitCode, output) = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", "http://127.0.0.1:9")
            .Arg($"--Gateway:Tracing:SampleRatio={ratio}")
            .RunProcessToExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains($"Gateway:Tracing:SampleRatio must be from 0 to 1, not {ratio}", output);
    }
}

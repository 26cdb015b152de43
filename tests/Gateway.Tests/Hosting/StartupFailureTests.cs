using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>A gateway that cannot start says why in one line, naming the culprit, and exits with code 1.</summary>
public sealed class StartupFailureTests
{
    [Theory]
    [InlineData("""{ "pipeline": [ { "plugin": "Missing" } ] }""", "pipeline[0] (plugin \"Missing\")")]
    [InlineData("""{ "pipeline": [ """, "plugins.json:1:")]
    public async Task UnusablePipeline_IsOneErrorLine_AndExitCode1(string pipeline, string culprit)
    {
        var (exitCode, output) = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Pipeline(pipeline)
            .RunProcessToExitAsync();

        Assert.Equal(1, exitCode);
        var errors = output.Split('\n').Where(line => line.Contains(culprit)).ToArray();
        Assert.True(errors.Length == 1, output);
        Assert.Contains("The gateway cannot start", output);
        Assert.DoesNotContain("keeps serving", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Theory]
    [InlineData("--Gateway:InlineIo=maybe", "'Gateway:InlineIo'")]
    [InlineData("--Gateway:HttpsPort=abc", "'Gateway:HttpsPort'")]
    public async Task ASettingThatDoesNotBind_IsOneErrorLineNamingIt(string setting, string culprit)
    {
        var (exitCode, output) = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Arg(setting)
            .RunProcessToExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Single(output.Split('\n'), line => line.Contains(culprit) && line.Contains("The gateway cannot start"));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task MissingPipelineFile_IsOneErrorLineNamingIt()
    {
        var (exitCode, output) = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Arg("--Gateway:PipelineFile=no-such-plugins.json")
            .RunProcessToExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Single(output.Split('\n'), line => line.Contains("no-such-plugins.json"));
        Assert.DoesNotContain("   at ", output);
    }
}

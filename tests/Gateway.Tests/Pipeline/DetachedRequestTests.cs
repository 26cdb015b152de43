using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// <c>PluginContext.TryStartDetachedRequest</c> through real plugin DLLs and a real origin: the probe answers its client
/// with 202 and sends a copy of the request on through the stages after it, logging what the copy got.
/// </summary>
public sealed class DetachedRequestTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;
    private readonly List<OriginEcho> _seen = [];

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync()
    {
        _origin.Release();
        await _origin.DisposeAsync();
    }

    private TestGatewayBuilder Gateway(params string[] args) => TestGateway.Create()
        .Route("a", "/{**rest}", "c")
        .Cluster("c", _origin)
        .TestPlugin("Probe")
        .Pipeline("""
            { "pipeline": [
              { "plugin": "Probe", "config": { "tag": "before", "setVar": "from-before" } },
              { "plugin": "Probe", "config": { "tag": "starter", "detach": true } },
              { "plugin": "Probe", "config": { "tag": "after", "echoVar": "before" } }
            ] }
            """)
        .Args(args);

    private static Task<LogLine> CopyLogAsync(TestGateway gateway) =>
        gateway.Logs.WaitForAsync(line => line.Message.StartsWith("probe 'starter' detached copy got", StringComparison.Ordinal))
            .WaitAsync(TimeSpan.FromSeconds(10))
            .ContinueWith(_ => gateway.Logs.Lines.First(line => line.Message.StartsWith("probe 'starter' detached copy got", StringComparison.Ordinal)), TaskScheduler.Default);

    [Fact]
    public async Task ACopy_GoesThroughTheLaterStagesToTheUpstream_WithTheVarsOfItsRequest()
    {
        await using var gateway = await Gateway().StartAsync();

        using var response = await gateway.Proxy.GetAsync("item?q=1");
        var copy = await CopyLogAsync(gateway);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-detached").Single());
        Assert.Equal("probe 'starter' detached copy got 200 x-var=from-before x-order-out=after aborted=False", copy.Message);
        Assert.Equal(1, _origin.Requests);
        // The client's answer went back through the stages before the starter only.
        Assert.Equal("before", response.Headers.GetValues("x-order-out").Single());
    }

    [Fact]
    public async Task ARequestThatMayHaveABody_IsNotCopied()
    {
        await using var gateway = await Gateway().StartAsync();

        using var response = await gateway.Proxy.PostAsync("item", new StringContent("a body"));

        Assert.Equal("false", response.Headers.GetValues("x-detached").Single());
    }

    [Fact]
    public async Task PastMaxConcurrent_NoCopyStarts_UntilOneEnds()
    {
        await using var gateway = await Gateway("--Gateway:DetachedRequests:MaxConcurrent=1", "--Logging:LogLevel:Gateway.Pipeline.DetachedRequests=Debug").StartAsync();

        using var holding = await gateway.Proxy.GetAsync("hold");
        await _origin.Holding.WaitAsync(TimeSpan.FromSeconds(10));
        using var refused = await gateway.Proxy.GetAsync("item");
        _origin.Release();
        // The gateway's own line once the copy is done and its slot free.
        await gateway.Logs.WaitForAsync(line => line.Message.StartsWith("A detached copy of a request on route a is done", StringComparison.Ordinal))
            .WaitAsync(TimeSpan.FromSeconds(10));
        using var afterwards = await gateway.Proxy.GetAsync("item");

        Assert.Equal("true", holding.Headers.GetValues("x-detached").Single());
        Assert.Equal("false", refused.Headers.GetValues("x-detached").Single());
        Assert.Equal("true", afterwards.Headers.GetValues("x-detached").Single());
    }

    [Fact]
    public async Task ACopyRunningPastTheTimeout_IsCanceled()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await Gateway("--Gateway:DetachedRequests:Timeout=00:00:30").Time(clock).StartAsync();

        using var response = await gateway.Proxy.GetAsync("hold");
        await _origin.Holding.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(31));
        var copy = await CopyLogAsync(gateway);

        Assert.Contains("aborted=True", copy.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunningCopy_KeepsItsPipelineFromRetiring_UntilItEnds()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await Gateway().Time(clock).StartAsync();
        using var response = await gateway.Proxy.GetAsync("hold");
        await _origin.Holding.WaitAsync(TimeSpan.FromSeconds(10));

        await gateway.ReloadOkAsync();
        var retirements = gateway.RetirementsAsync();
        var retiredBeforeRelease = retirements.IsCompleted;
        _origin.Release();
        await CopyLogAsync(gateway);
        await retirements.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(retiredBeforeRelease, "the pipeline retired while a detached copy was still running its stages");
    }

    [Theory]
    [InlineData("MaxConcurrent=-1", "MaxConcurrent must be zero (none) or more")]
    [InlineData("Timeout=00:00:00", "Timeout must be more than zero")]
    public async Task BadSettings_StopTheStart_NamingTheSetting(string setting, string message)
    {
        var start = Gateway($"--Gateway:DetachedRequests:{setting}").StartAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => start);

        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }
}

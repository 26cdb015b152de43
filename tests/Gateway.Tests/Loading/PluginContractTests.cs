using System.Net;
using Gateway.Caching;
using Gateway.Loading;
using Gateway.Pipeline;
using Gateway.Plugins;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Loading;

/// <summary>What the gateway promises plugins and asks of them, beyond calling them per request.</summary>
public sealed class PluginContractTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private TestGatewayBuilder Gateway(string probe, string config) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .TestPlugin(probe)
        .Pipeline($$"""{ "pipeline": [ { "plugin": "{{probe}}", "config": {{config}} } ] }""");

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task InitializeAsync_IsAwaitedBeforeThePipelineServes(string probe)
    {
        await using var gateway = await Gateway(probe, """{ "tag": "a", "initializeMs": 100 }""").StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal("a", response.Headers.GetValues("x-initialized").Single());
    }

    [Theory]
    [InlineData("""{ "tag": "b", "throwOnInitialize": true }""", "initializing threw InvalidOperationException: probe 'b' was told to fail initializing")]
    [InlineData("""{ "tag": "b", "initializeMs": 30000 }""", "did not finish initializing within 0.3 s (Gateway:PluginInitializeTimeout)")]
    public async Task InitializeAsync_ThatFailsOrOverrunsItsTimeout_RejectsTheReloadNamingTheEntry(string config, string message)
    {
        await using var gateway = await Gateway("FilterProbe", """{ "tag": "a" }""").Arg("--Gateway:PluginInitializeTimeout=00:00:00.300").StartAsync();
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "FilterProbe", "config": {{config}} } ] }""");

        var error = await gateway.ReloadRejectedAsync();
        using var still = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(("pipeline[0] (plugin \"FilterProbe\")", "$.pipeline[0]", message), ((string?)error["entry"], (string?)error["path"], (string?)error["message"]));
        Assert.Equal((HttpStatusCode.OK, "a"), (still.StatusCode, still.Headers.GetValues("x-initialized").Single()));
    }

    [Fact]
    public async Task Services_ResolveOnlyWhatPluginsAreGiven()
    {
        await using var gateway = await Gateway("Probe", """{ "tag": "a" }""").StartAsync();
        var services = new PluginServices(gateway.Services);

        Assert.NotNull(services.GetService<IDistributedCache>());
        Assert.NotNull(services.GetService<TimeProvider>());
        Assert.NotNull(services.GetService<IHttpClientFactory>());
        Assert.Null(services.GetService<PipelineHolder>());
        Assert.Null(services.GetService<CacheHealth>());
        var refused = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<PipelineReloader>());
        Assert.Contains("Plugins can resolve IDistributedCache, TimeProvider", refused.Message);
    }

    [Fact]
    public void AFilterWithAnInvokeAsyncOfItsOwn_IsRefused_AndTheTwoShapesAlonePass()
    {
        var refused = Assert.Throws<PluginLoadException>(() => PluginAssemblyLoader.RejectFilterWithInvoke(typeof(FilterWithInvoke), "x.dll"));

        Assert.Contains("is an IGatewayFilter and implements InvokeAsync too", refused.Message);
        PluginAssemblyLoader.RejectFilterWithInvoke(typeof(PlainFilter), "x.dll");
        PluginAssemblyLoader.RejectFilterWithInvoke(typeof(PlainPlugin), "x.dll");
    }

    public sealed class PlainFilter : IGatewayFilter
    {
        public ValueTask<bool> OnRequestAsync(PluginContext context) => new(true);

        public void OnResponse(PluginContext context)
        {
        }
    }

    public sealed class FilterWithInvoke : IGatewayFilter
    {
        public ValueTask<bool> OnRequestAsync(PluginContext context) => new(true);

        public void OnResponse(PluginContext context)
        {
        }

        ValueTask IGatewayPlugin.InvokeAsync(PluginContext context, PluginDelegate next) => next(context);
    }

    public sealed class PlainPlugin : IGatewayPlugin
    {
        public ValueTask InvokeAsync(PluginContext context, PluginDelegate next) => next(context);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Gateway.Loading;
using Gateway.Plugins;
using Gateway.Plugins.Testing;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Loading;

/// <summary>What the gateway promises plugins and asks of them, beyond calling them per request.</summary>
public sealed class PluginContractTests
{
    private static PluginHostBuilder Host(string probe, string config) =>
        PluginHost.Create().Plugin(Path.Combine(RepoPaths.TestPlugins, probe), config);

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task InitializeAsync_IsAwaitedBeforeThePipelineServes(string probe)
    {
        await using var host = await Host(probe, """{ "tag": "a", "initializeAsynchronously": true }""").StartAsync();

        using var response = await host.Client.GetAsync("api/x");

        Assert.Equal("a", response.Headers.GetValues("x-initialized").Single());
    }

    [Theory]
    [InlineData("""{ "tag": "b", "throwOnInitialize": true }""", "initializing threw InvalidOperationException: probe 'b' was told to fail initializing")]
    [InlineData("""{ "tag": "b", "initializeUntilCanceled": true }""", "did not finish initializing within 0.3 s (Gateway:PluginInitializeTimeout)")]
    public async Task InitializeAsync_ThatFailsOrOverrunsItsTimeout_RejectsTheReloadNamingTheEntry(string config, string message)
    {
        // The initialization timeout runs on the gateway's clock: moved past once the probe has started, not waited out.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await TestOrigin.StartAsync("d1");
        await using var gateway = await TestGateway.Create().Time(clock)
            .Route("api", "/api/{**rest}", "backend").Cluster("backend", origin)
            .TestPlugin("FilterProbe")
            .Pipeline("""{ "pipeline": [ { "plugin": "FilterProbe", "config": { "tag": "a" } } ] }""")
            .Arg("--Gateway:PluginInitializeTimeout=00:00:00.300")
            .StartAsync();
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "FilterProbe", "config": {{config}} } ] }""");

        var reload = gateway.ReloadAsync();
        await gateway.Logs.WaitForAsync(line => line.Message == "probe 'b' is initializing").WaitAsync(TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromMilliseconds(300));
        using var rejected = await reload;
        var error = JsonNode.Parse(await rejected.Content.ReadAsStringAsync())!["errors"]![0]!;
        using var still = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, rejected.StatusCode);
        Assert.Equal(("pipeline[0] (plugin \"FilterProbe\")", "$.pipeline[0]", message), ((string?)error["entry"], (string?)error["path"], (string?)error["message"]));
        Assert.Equal((HttpStatusCode.OK, "a"), (still.StatusCode, still.Headers.GetValues("x-initialized").Single()));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    [InlineData("2.00:00:00")]
    public async Task InitializeTimeout_OutOfRange_IsAnErrorNotACrash(string timeout)
    {
        var refused = await Assert.ThrowsAsync<PluginHostException>(() =>
            Host("FilterProbe", """{ "tag": "a" }""").Setting("Gateway:PluginInitializeTimeout", timeout).StartAsync());

        Assert.Contains("Gateway:PluginInitializeTimeout: must be more than zero and at most 01:00:00", refused.Message);
    }

    [Fact]
    public void Services_ResolveOnlyWhatPluginsAreGiven()
    {
        using var container = new ServiceCollection()
            .AddDistributedMemoryCache()
            .AddHttpClient()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .BuildServiceProvider();
        var services = new PluginServices(container);

        Assert.NotNull(services.GetService<IDistributedCache>());
        Assert.NotNull(services.GetService<TimeProvider>());
        Assert.NotNull(services.GetService<IHttpClientFactory>());
        Assert.Null(services.GetService<IConfiguration>());
        var refused = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IConfiguration>());
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

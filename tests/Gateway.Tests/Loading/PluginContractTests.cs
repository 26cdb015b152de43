using System.Net;
using System.Text.Json.Nodes;
using Gateway.Loading;
using Gateway.Plugins;
using Gateway.Plugins.Testing;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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
        await using var host = await Host(probe, """{ "tag": "a", "initializeMs": 100 }""").StartAsync();

        using var response = await host.Client.GetAsync("api/x");

        Assert.Equal("a", response.Headers.GetValues("x-initialized").Single());
    }

    [Theory]
    [InlineData("""{ "tag": "b", "throwOnInitialize": true }""", "initializing threw InvalidOperationException: probe 'b' was told to fail initializing")]
    [InlineData("""{ "tag": "b", "initializeMs": 30000 }""", "did not finish initializing within 0.3 s (Gateway:PluginInitializeTimeout)")]
    public async Task InitializeAsync_ThatFailsOrOverrunsItsTimeout_RejectsTheReloadNamingTheEntry(string config, string message)
    {
        await using var host = await Host("FilterProbe", """{ "tag": "a" }""").Setting("Gateway:PluginInitializeTimeout", "00:00:00.300").StartAsync();
        File.WriteAllText(Path.Combine(host.Directory, "plugins.json"), $$"""{ "pipeline": [ { "plugin": "FilterProbe", "config": {{config}} } ] }""");

        using var rejected = await host.ReloadAsync();
        var error = JsonNode.Parse(await rejected.Content.ReadAsStringAsync())!["errors"]![0]!;
        using var still = await host.Client.GetAsync("api/x");

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

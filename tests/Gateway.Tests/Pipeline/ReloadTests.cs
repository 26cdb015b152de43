using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Pipeline;

/// <summary>Reloading real plugin builds while the gateway serves.</summary>
[Collection(JsonUserNewContexts.Name)]
public sealed class ReloadTests : IAsyncLifetime
{
    // The routing grace after each reload passes when a test says so (TestGateway.RetirementsAsync), not in real time.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private TestGatewayBuilder Gateway() => TestGateway.Create().Time(_clock).Route("all", "{**rest}", "c").Cluster("c", _origin);

    [Fact]
    public async Task Reload_NewPluginBuildUnderConcurrentTraffic_NoRequestFailsAndNewRequestsSeeIt()
    {
        await using var gateway = await Gateway()
            .TestPlugin("Versioned", "VersionedV1")
            .Pipeline("""{ "pipeline": [ { "plugin": "Versioned" } ] }""")
            .StartAsync();

        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var total = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var swapped = false;

        async Task Worker()
        {
            // Bounded: until the swap is done and 400 more requests went through, or 30 s.
            while (!stop.IsCancellationRequested && Interlocked.Increment(ref total) < 6000)
            {
                try
                {
                    using var response = await gateway.Proxy.GetAsync("x", stop.Token);
                    var version = response.Headers.TryGetValues("x-plugin-version", out var v) ? v.Single() : "none";
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"{(int)response.StatusCode} (version {version})");
                    }
                    seen.AddOrUpdate(version, 1, (_, n) => n + 1);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex.Message);
                }
                if (Volatile.Read(ref swapped) && seen.GetValueOrDefault("2") >= 400)
                {
                    return;
                }
            }
        }

        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(Worker)).ToArray();
        while (seen.GetValueOrDefault("1") < 200 && !stop.IsCancellationRequested)
        {
            await Task.Yield();
        }
        gateway.InstallPlugin("Versioned", Path.Combine(RepoPaths.TestPlugins, "VersionedV2"));
        var reloaded = await gateway.ReloadOkAsync();
        Volatile.Write(ref swapped, true);
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.True(seen.GetValueOrDefault("1") >= 200, $"v1 answered {seen.GetValueOrDefault("1")}");
        Assert.True(seen.GetValueOrDefault("2") >= 400, $"v2 answered {seen.GetValueOrDefault("2")}");
        Assert.StartsWith("2.0.0", (string?)reloaded["entries"]![0]!["version"]);
        using var after = await gateway.Proxy.GetAsync("x");
        Assert.Equal("2", after.Headers.GetValues("x-plugin-version").Single());
    }

    [Fact]
    public async Task Reload_WithARequestInFlight_ItFinishesOnTheOldVersionWhichUnloadsAfterIt()
    {
        await using var gateway = await Gateway()
            .TestPlugin("Versioned", "VersionedV1")
            .Pipeline("""{ "pipeline": [ { "plugin": "Versioned" } ] }""")
            .StartAsync();
        var inFlight = gateway.Proxy.GetAsync("hold/slow");
        await _origin.Holding;

        gateway.InstallPlugin("Versioned", Path.Combine(RepoPaths.TestPlugins, "VersionedV2"));
        await gateway.ReloadOkAsync();
        using var fresh = await gateway.Proxy.GetAsync("x");
        // Moving the fake clock past the routing grace runs the retirement up to its wait for the old pipeline's
        // requests on this thread; the one in flight keeps it there.
        var retirements = gateway.RetirementsAsync();
        var retiredBeforeRelease = retirements.IsCompleted;
        _origin.Release();
        using var old = await inFlight;
        await retirements;

        Assert.Equal("2", fresh.Headers.GetValues("x-plugin-version").Single());
        Assert.Equal("1", old.Headers.GetValues("x-plugin-version").Single());
        Assert.False(retiredBeforeRelease, "the old pipeline unloaded while a request was still running on it");
    }

    [Theory]
    [InlineData("Versioned", "VersionedV1")]
    [InlineData("JsonUserNew", "JsonUserNew")]
    public async Task Reload_AfterOldPipelineDrains_ItsLoadContextIsCollected(string plugin, string build)
    {
        await using var gateway = await Gateway()
            .TestPlugin(plugin, build)
            .Pipeline($$"""{ "pipeline": [ { "plugin": "{{plugin}}" } ] }""")
            .StartAsync();
        for (var i = 0; i < 5; i++)
        {
            using var response = await gateway.Proxy.GetAsync("x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var old = LoadContexts.OfCurrent(gateway.Holder);

        await gateway.ReloadOkAsync();
        await gateway.RetirementsAsync();

        Assert.Equal(0, await LoadContexts.CollectAsync(old));
    }

    [Fact]
    public async Task Stop_UnloadsTheLastPipeline()
    {
        var gateway = await Gateway()
            .TestPlugin("JsonUserNew")
            .Pipeline("""{ "pipeline": [ { "plugin": "JsonUserNew" } ] }""")
            .StartAsync();
        List<WeakReference> last;
        try
        {
            using var response = await gateway.Proxy.GetAsync("x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            last = LoadContexts.OfCurrent(gateway.Holder);
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        Assert.Equal(0, await LoadContexts.CollectAsync(last));
    }

    [Fact]
    public async Task Reload_RetiredContextsAreCollectedByTheGateway_NotLeftForTheNextCollection()
    {
        await using var gateway = await Gateway()
            .TestPlugin("JsonUserNew")
            .Pipeline("""{ "pipeline": [ { "plugin": "JsonUserNew" } ] }""")
            .StartAsync();
        var retired = LoadContexts.OfCurrent(gateway.Holder);

        await gateway.ReloadOkAsync();
        await gateway.RetirementsAsync();

        // No collection by the test: an idle gateway would otherwise keep an unloaded context until the next full
        // one, which a heap walk meanwhile (dotnet-gcdump) meets as a fault in the runtime.
        Assert.Equal(0, gateway.Holder.Retiring);
        Assert.All(retired, context => Assert.False(context.IsAlive));
    }

    [Fact]
    public async Task Reload_FiftyCyclesOfAPluginUsingNewtonsoft_LeaveNoOldContextAlive()
    {
        var before = LoadContexts.Named("JsonUserNew");
        await using var gateway = await Gateway()
            .TestPlugin("JsonUserNew")
            .Pipeline("""{ "pipeline": [ { "plugin": "JsonUserNew" } ] }""")
            .StartAsync();

        var old = new List<WeakReference>();
        for (var cycle = 0; cycle < 50; cycle++)
        {
            using (var response = await gateway.Proxy.GetAsync("x"))
            {
                Assert.Contains("13.0.0.0", response.Headers.GetValues("x-json-JsonUserNew").Single());
            }
            old.AddRange(LoadContexts.OfCurrent(gateway.Holder));
            await gateway.ReloadOkAsync();
        }
        await gateway.RetirementsAsync();

        Assert.Equal(0, await LoadContexts.CollectAsync(old));
        Assert.Equal(1, LoadContexts.AliveSince("JsonUserNew", before));
    }

    [Fact]
    public async Task Reload_ConcurrentCalls_RunOneAtATime()
    {
        await using var gateway = await Gateway()
            .TestPlugin("Probe")
            .Pipeline("""{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "t" } } ] }""")
            .StartAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => gateway.ReloadOkAsync()));

        var generations = results.Select(r => (int)r["generation"]!).Order().ToArray();
        Assert.Equal([2, 3, 4, 5, 6, 7], generations);
        Assert.Equal(7, gateway.Holder.Current!.Generation);
    }

    public static TheoryData<string, string, bool, string, string> BadInputs() => new()
    {
        { "malformed JSON", """{ "pipeline": [ { "plugin": "Probe", """, false, "plugins.json:1:", "malformed JSON" },
        { "unknown plugin", """{ "pipeline": [ { "plugin": "Nope" } ] }""", false, "$.pipeline[0].plugin", "plugin 'Nope' was not found" },
        { "constructor throws", """{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "x", "throwInConstructor": true } } ] }""", false, "$.pipeline[0]", "constructor of Probe.ProbePlugin threw" },
        { "not a .NET file", """{ "pipeline": [ { "plugin": "Bogus" } ] }""", true, "$.pipeline[0].plugin", "is not a .NET assembly" },
        { "config rejected by the plugin", """{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "x", "respond": 1000 } } ] }""", false, "$.pipeline[0].config.respond", "must be an HTTP status code" },
        { "config of the wrong shape", """{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "x", "colour": "red" } } ] }""", false, "$.pipeline[0].config", "colour" },
        { "unknown route", """{ "pipeline": [ { "plugin": "Probe", "routes": ["nowhere"], "config": { "tag": "x" } } ] }""", false, "$.pipeline[0].routes[0]", "route 'nowhere'" },
        { "missing environment variable", """{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "${env:GATEWAY_TEST_UNSET_VARIABLE}" } } ] }""", false, "$.pipeline[0].config.tag", "GATEWAY_TEST_UNSET_VARIABLE" },
    };

    private static void WriteBogusDll(TestGateway gateway)
    {
        Directory.CreateDirectory(Path.Combine(gateway.PluginsPath, "Bogus"));
        File.WriteAllText(Path.Combine(gateway.PluginsPath, "Bogus", "Bogus.dll"), "this is not a .NET assembly");
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Reload_BadInput_Answers422NamingTheCulpritAndOldPipelineKeepsServing(
        string what, string pipeline, bool bogusDll, string path, string message)
    {
        await using var gateway = await Gateway()
            .TestPlugin("Probe")
            .Pipeline("""{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "old" } } ] }""")
            .StartAsync();
        if (bogusDll)
        {
            WriteBogusDll(gateway);
        }
        gateway.WritePipeline(pipeline);

        using var response = await gateway.ReloadAsync();
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{what}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonNode.Parse(body)!["errors"]!.AsArray();
        Assert.Contains(errors, e => ((string)e!["path"]!).StartsWith(path, StringComparison.Ordinal) && ((string)e["message"]!).Contains(message, StringComparison.Ordinal));

        var echo = await OriginEcho.ReadAsync(await gateway.Proxy.GetAsync("x"));
        Assert.Equal("old", echo.Headers["x-order"]);
        var current = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!;
        Assert.Equal(1, (int)current["generation"]!);
    }

    [Fact]
    public async Task Reload_EntryNames_AppearInErrors()
    {
        await using var gateway = await Gateway().TestPlugin("Probe").StartAsync();
        gateway.WritePipeline("""{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "ok" } }, { "plugin": "Missing" } ] }""");

        using var response = await gateway.ReloadAsync();
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;

        Assert.Equal("pipeline[1] (plugin \"Missing\")", (string?)error["entry"]);
    }

    [Fact]
    public async Task Reload_PluginWithThreadStatics_IsRejectedNamingTheField_AndThePreviousPipelineKeepsServing()
    {
        await using var gateway = await Gateway().TestPlugin("Probe").TestPlugin("ThreadStaticUser").StartAsync();
        gateway.WritePipeline("""{ "pipeline": [ { "plugin": "ThreadStaticUser" } ] }""");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Contains("ThreadStaticUserPlugin.t_scratch", (string?)error["message"]);
        using var response = await gateway.Proxy.GetAsync("x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Start_WithBadPipeline_FailsNamingTheCulprit()
    {
        var start = Gateway().Pipeline("""{ "pipeline": [ { "plugin": "Absent" } ] }""").StartAsync();

        var failure = await Assert.ThrowsAsync<Gateway.Hosting.GatewayStartException>(() => start);

        Assert.Contains("pipeline[0] (plugin \"Absent\")", failure.Message);
    }
}

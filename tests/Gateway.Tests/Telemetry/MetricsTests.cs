using System.Net;
using System.Net.Http.Headers;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// The metrics a Prometheus scrape of the admin listener gets: requests by route, cluster and status, the pipeline's
/// entries, reloads, a plugin's own counters and the cache, behind the admin key or a scrape key of its own.
/// </summary>
[Collection(ProcessWideTelemetry.Name)]
public sealed class MetricsTests : IAsyncLifetime
{
    private const string ScrapeKey = "scrape-key-0123456789";

    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private const string Pipeline = """
        { "pipeline": [
          { "script": "scripts/tag.js" },
          { "plugin": "Gslb", "config": { "pools": { "main": "backend" } } }
        ] }
        """;

    private Task<TestGateway> StartAsync(params string[] args) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("Gslb")
        .Script("tag.js", "function onResponse(ctx) { ctx.response.headers.set('x-tag', 'on'); }")
        .Pipeline(Pipeline)
        .Args(args)
        .StartAsync();

    /// <summary>GET /metrics on the admin listener with <paramref name="key"/> as the bearer, or none.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> ScrapeAsync(TestGateway gateway, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key);
        using var client = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpStatusCode> ScrapeStatusAsync(TestGateway gateway, string? key) => (await ScrapeAsync(gateway, key)).Status;

    private static double Value(IReadOnlyList<PrometheusSample> samples, string name, params (string Label, string Value)[] labels)
    {
        var matching = samples.Where(sample => sample.Name == name && labels.All(label => sample.Labels.GetValueOrDefault(label.Label) == label.Value)).ToList();
        Assert.True(matching.Count == 1, $"{matching.Count} samples of {name}: " + string.Join(" | ", matching.Select(sample => string.Join(",", sample.Labels.Select(label => $"{label.Key}={label.Value}")) + $" {sample.Value}")));
        return matching[0].Value;
    }

    [Fact]
    public async Task AScrape_ListsRequestsByRouteClusterAndStatus_TheEntries_Reloads_PluginCounters_AndTheCache()
    {
        await using var gateway = await StartAsync("--Gateway:Metrics:Prometheus=true", $"--Gateway:Metrics:ScrapeKey={ScrapeKey}");
        for (var i = 0; i < 5; i++)
        {
            (await gateway.Proxy.GetAsync("api/x")).Dispose();
        }
        // On the same connection, so the five before it have been counted once it is answered.
        (await gateway.Proxy.GetAsync("unrouted")).Dispose();
        File.WriteAllText(Path.Combine(gateway.Directory, "plugins.json"), "{ not json");
        await gateway.ReloadRejectedAsync();
        gateway.WritePipeline(Pipeline);
        await gateway.ReloadOkAsync();

        var (status, body) = await ScrapeAsync(gateway, ScrapeKey);
        var samples = PrometheusSample.Parse(body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5, Value(samples, "http_server_request_duration_seconds_count",
            ("gateway_route", "api"), ("gateway_cluster", "backend"), ("http_response_status_code", "200"), ("http_request_method", "GET")));
        Assert.Equal(2, Value(samples, "gateway_reloads_total", ("gateway_reload_outcome", "applied")));
        Assert.Equal(1, Value(samples, "gateway_reloads_total", ("gateway_reload_outcome", "rejected")));
        Assert.Equal(2, Value(samples, "gateway_pipeline_generation"));
        // The serving generation's counters: the reload made a new one, which has served nothing yet.
        Assert.Equal(0, Value(samples, "gateway_stage_calls_total", ("gateway_entry", "scripts/tag.js")));
        Assert.Equal(0, Value(samples, "gateway_plugin_counter_total", ("gateway_entry", "Gslb"), ("gateway_counter", "pool:main")));
        Assert.Equal(0, Value(samples, "gateway_script_breaches_total", ("gateway_entry", "scripts/tag.js")));
        Assert.Equal(1, Value(samples, "gateway_cache_healthy", ("gateway_cache_kind", "memory")));
        Assert.Contains(samples, sample => sample.Name == "kestrel_active_connections");
        Assert.DoesNotContain(samples, sample => sample.Name.StartsWith("http_client_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheEntriesCounters_CountWhatTheServingGenerationServed_AndTheMetersListedAreExported()
    {
        await using var gateway = await StartAsync("--Gateway:Metrics:Prometheus=true", "--Gateway:Metrics:Meters:0=Gateway", "--Gateway:Metrics:Meters:1=System.Net.Http");
        for (var i = 0; i < 3; i++)
        {
            (await gateway.Proxy.GetAsync("api/x")).Dispose();
        }

        var samples = PrometheusSample.Parse(await gateway.Admin.GetStringAsync("metrics"));

        Assert.Equal(3, Value(samples, "gateway_stage_calls_total", ("gateway_entry", "scripts/tag.js")));
        Assert.Equal(3, Value(samples, "gateway_plugin_counter_total", ("gateway_entry", "Gslb"), ("gateway_counter", "pool:main")));
        Assert.True(Value(samples, "gateway_stage_time_seconds_total", ("gateway_entry", "scripts/tag.js")) >= 0);
        // The meters listed, and only those: the forwarder's client, and no request histogram of ASP.NET Core's.
        Assert.Contains(samples, sample => sample.Name == "http_client_request_duration_seconds_count");
        Assert.DoesNotContain(samples, sample => sample.Name.StartsWith("http_server_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheScrapeKey_OpensMetricsOnly_AndNothingOpensItWithoutAKey()
    {
        await using var gateway = await StartAsync("--Gateway:Metrics:Prometheus=true", $"--Gateway:Metrics:ScrapeKey={ScrapeKey}");
        using var admin = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeKey);

        Assert.Equal(HttpStatusCode.Unauthorized, await ScrapeStatusAsync(gateway, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await ScrapeStatusAsync(gateway, "wrong"));
        Assert.Equal(HttpStatusCode.OK, await ScrapeStatusAsync(gateway, TestGateway.AdminKey));
        Assert.Equal(HttpStatusCode.OK, await ScrapeStatusAsync(gateway, ScrapeKey));
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("admin/pipeline")).StatusCode);
        // The proxy listener has no /metrics of its own: it is a path like any other.
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Proxy.GetAsync("metrics")).StatusCode);
    }

    [Fact]
    public async Task WithoutAnExporter_ThereIsNoMetricsEndpoint()
    {
        await using var gateway = await StartAsync();

        Assert.Equal(HttpStatusCode.NotFound, await ScrapeStatusAsync(gateway, TestGateway.AdminKey));
    }

    [Fact]
    public async Task WithAnOtlpEndpoint_MetricsTracesAndLogsArePushedToIt()
    {
        var pushed = new[] { "/v1/metrics", "/v1/traces", "/v1/logs" }
            .ToDictionary(path => path, _ => new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously));
        await using var collector = await TestOrigin.StartAsync("collector", respond: (context, _) =>
        {
            pushed.GetValueOrDefault(context.Request.Path.Value!)?.TrySetResult(context.Request.ContentType);
            return Task.CompletedTask;
        });
        await using var gateway = await StartAsync(
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={collector.Url.TrimEnd('/')}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--OTEL_METRIC_EXPORT_INTERVAL=200", "--OTEL_BSP_SCHEDULE_DELAY=200", "--OTEL_BLRP_SCHEDULE_DELAY=200");
        (await gateway.Proxy.GetAsync("api/x")).Dispose();

        foreach (var (path, received) in pushed)
        {
            Assert.True(await received.Task.WaitAsync(TimeSpan.FromSeconds(30)) == "application/x-protobuf", path);
        }
        Assert.Equal(HttpStatusCode.NotFound, await ScrapeStatusAsync(gateway, TestGateway.AdminKey));
    }
}

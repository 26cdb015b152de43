using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// The spans a traced request leaves, captured by an in-memory exporter the way a host adds its own: the request's,
/// one per pipeline entry (per step for a filter), the upstream call, with the client's trace continued to the origin.
/// </summary>
[Collection(ProcessWideTelemetry.Name)]
public sealed class TracingTests : IAsyncLifetime
{
    // A client's trace: the gateway continues it, and so must the origin.
    private static readonly ActivityTraceId ClientTrace = ActivityTraceId.CreateRandom();
    private static readonly ActivitySpanId ClientSpan = ActivitySpanId.CreateRandom();

    private readonly SpanCollector _spans = new();
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> StartAsync(string pipeline, params string[] args) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .TestPlugin("Probe")
        .TestPlugin("FilterProbe")
        .Script("tag.js", "function onRequest(ctx) { ctx.request.headers.set('x-tag', 'on'); }")
        .Pipeline(pipeline)
        .Services(services => services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(_spans)))
        .Args(args)
        .StartAsync();

    private static HttpRequestMessage Traced(string path) => new(HttpMethod.Get, path)
    {
        Headers = { { "traceparent", $"00-{ClientTrace.ToHexString()}-{ClientSpan.ToHexString()}-01" } },
    };

    /// <summary>The gateway's span for the client's request, once it has ended.</summary>
    private async Task<Activity> RequestSpanAsync()
    {
        static bool IsGatewayRequest(Activity span) => span.Kind == ActivityKind.Server && span.ParentSpanId == ClientSpan;
        await _spans.WaitForAsync(IsGatewayRequest).WaitAsync(TimeSpan.FromSeconds(30));
        return _spans.Spans.Single(IsGatewayRequest);
    }

    private IReadOnlyList<Activity> ChildrenOf(Activity parent) =>
        [.. _spans.Spans.Where(span => span.ParentSpanId == parent.SpanId).OrderBy(span => span.StartTimeUtc)];

    [Fact]
    public async Task MiddlewareEntries_NestAsTheyRun_AndTheUpstreamCall_CarriesTheTraceToTheOrigin()
    {
        await using var gateway = await StartAsync("""
            { "pipeline": [
              { "plugin": "Probe", "config": { "tag": "p", "delayMs": 5 } },
              { "script": "scripts/tag.js" }
            ] }
            """);

        using var response = await gateway.Proxy.SendAsync(Traced("api/x"));
        var echo = await OriginEcho.ReadAsync(response);
        var request = await RequestSpanAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ClientTrace, request.TraceId);
        Assert.Equal("api", request.GetTagItem("gateway.route"));
        Assert.Equal("backend", request.GetTagItem("gateway.cluster"));
        Assert.Equal("d1", request.GetTagItem("gateway.destination"));
        Assert.Equal(200, request.GetTagItem("http.response.status_code"));
        Assert.Equal("GET /api/{**rest}", request.DisplayName);

        // The plugin's span holds the script's (its next), which holds the upstream call (the script's next).
        var plugin = Assert.Single(ChildrenOf(request));
        Assert.Equal("plugin Probe", plugin.DisplayName);
        Assert.Equal(0, plugin.GetTagItem("gateway.entry.index"));
        var script = Assert.Single(ChildrenOf(plugin));
        Assert.Equal("script scripts/tag.js", script.DisplayName);
        var upstream = Assert.Single(ChildrenOf(script));
        Assert.Equal(ActivityKind.Client, upstream.Kind);
        Assert.Equal("System.Net.Http", upstream.Source.Name);
        Assert.Equal(ClientTrace, upstream.TraceId);
        Assert.Equal(200, upstream.GetTagItem("http.response.status_code"));
        // The origin continues the trace from the upstream call, not from the client's span.
        Assert.Equal($"00-{ClientTrace.ToHexString()}-{upstream.SpanId.ToHexString()}-01", echo.Headers["traceparent"]);
        Assert.All([plugin, script, upstream], span => Assert.NotEqual(ActivityStatusCode.Error, span.Status));
    }

    [Fact]
    public async Task FilterSteps_AreSpansOfTheirOwn_BesideTheUpstreamCall()
    {
        await using var gateway = await StartAsync("""
            { "pipeline": [
              { "plugin": "FilterProbe", "config": { "tag": "f" } },
              { "script": "scripts/tag.js" }
            ] }
            """);

        (await gateway.Admin.GetAsync("admin/pipeline")).Dispose();
        using var response = await gateway.Proxy.SendAsync(Traced("api/x"));
        var request = await RequestSpanAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The admin listener's calls are not traced.
        Assert.DoesNotContain(_spans.Spans, span => span.Kind == ActivityKind.Server && (string?)span.GetTagItem("url.path") == "/admin/pipeline");
        Assert.Equal(
            ["plugin FilterProbe (request)", "script scripts/tag.js (request)", "System.Net.Http", "script scripts/tag.js (response)", "plugin FilterProbe (response)"],
            ChildrenOf(request).Select(span => span.Source.Name == "System.Net.Http" ? span.Source.Name : span.DisplayName));
    }

    [Fact]
    public async Task AFailingEntry_MarksItsSpan_AndTheProblemNamesTheTrace()
    {
        await using var gateway = await StartAsync("""
            { "pipeline": [
              { "plugin": "Probe", "config": { "tag": "boom", "throwOnRequest": true } }
            ] }
            """);

        using var response = await gateway.Proxy.SendAsync(Traced("api/x"));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var request = await RequestSpanAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(ClientTrace.ToHexString(), (string?)problem["traceId"]);
        var plugin = Assert.Single(ChildrenOf(request));
        Assert.Equal(ActivityStatusCode.Error, plugin.Status);
        Assert.Empty(ChildrenOf(plugin));
        var log = Assert.Single(gateway.Logs.Lines, line => line.Level == Microsoft.Extensions.Logging.LogLevel.Error);
        Assert.Contains(ClientTrace.ToHexString(), log.Message);
    }

    [Fact]
    public async Task TheSampleRatio_DecidesAlone_AClientsSampledFlagDoesNot()
    {
        await using var gateway = await StartAsync("""{ "pipeline": [ { "script": "scripts/tag.js" } ] }""", "--Gateway:Tracing:SampleRatio=0");

        using var response = await gateway.Proxy.SendAsync(Traced("api/x"));
        var echo = await OriginEcho.ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(_spans.Spans, span => span.Kind == ActivityKind.Server && span.ParentSpanId == ClientSpan);
        Assert.DoesNotContain(_spans.Spans, span => span.Source.Name == "Gateway");
        // Not traced, still continued: the origin gets the client's trace, marked not sampled.
        Assert.StartsWith($"00-{ClientTrace.ToHexString()}-", echo.Headers["traceparent"]);
        Assert.EndsWith("-00", echo.Headers["traceparent"]);
    }

    [Fact]
    public async Task WithoutATracer_TheProblemStillNamesTheClientsTrace()
    {
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", _origin)
            .TestPlugin("Probe")
            .Pipeline("""{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "boom", "throwOnRequest": true } } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.SendAsync(Traced("api/x"));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(ClientTrace.ToHexString(), (string?)problem["traceId"]);
        Assert.Empty(_spans.Spans);
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// Forwarding through real plugin DLLs, a real gateway and real origins. Each behaviour is tested with the probe as a
/// middleware plugin (<c>Probe</c>) and as a filter (<c>FilterProbe</c>), which the runner calls step by step: the two
/// shapes must behave the same.
/// </summary>
public sealed class PipelineMiddlewareTests : IAsyncLifetime
{
    private OriginPair _origins = null!;

    public async Task InitializeAsync() => _origins = await OriginPair.StartAsync();

    public async Task DisposeAsync() => await _origins.DisposeAsync();

    private TestGatewayBuilder TwoRoutes(string probe) => TestGateway.Create()
        .Route("a", "/a/{**rest}", "c")
        .Route("b", "/b/{**rest}", "c")
        .Cluster("c", _origins.D1)
        .TestPlugin(probe);

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_PluginBoundToRoute_RunsOnThatRouteOnly(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""{ "pipeline": [ { "plugin": "{{probe}}", "routes": ["a"], "config": { "tag": "on-a" } } ] }""")
            .StartAsync();

        var onA = await OriginEcho.ReadAsync(await gateway.Proxy.GetAsync("a/x"));
        var onB = await OriginEcho.ReadAsync(await gateway.Proxy.GetAsync("b/x"));

        Assert.Equal("on-a", onA.Headers["x-order"]);
        Assert.False(onB.Headers.ContainsKey("x-order"));
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_SeveralStages_RunInFileOrderAndUnwindInReverse(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""
                { "pipeline": [
                  { "plugin": "{{probe}}", "config": { "tag": "first" } },
                  { "plugin": "{{probe}}", "routes": ["a"], "config": { "tag": "second" } },
                  { "plugin": "{{probe}}", "enabled": false, "config": { "tag": "skipped" } },
                  { "plugin": "{{probe}}", "config": { "tag": "third" } }
                ] }
                """)
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");
        var echo = await OriginEcho.ReadAsync(response);
        using var onB = await gateway.Proxy.GetAsync("b/x");

        Assert.Equal("first,second,third", echo.Headers["x-order"]);
        Assert.Equal("third,second,first", response.Headers.GetValues("x-order-out").Single());
        Assert.Equal("first,third", (await OriginEcho.ReadAsync(onB)).Headers["x-order"]);
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_PluginAnswersWithoutNext_OriginIsNeverCalled(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""{ "pipeline": [ { "plugin": "{{probe}}", "config": { "tag": "gate", "respond": 418 } } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("probe:gate", await response.Content.ReadAsStringAsync());
        Assert.Equal("a", response.Headers.GetValues("x-route").Single());
        Assert.Equal(0, _origins.D1.Requests);
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_PluginChoosesDestination_RequestGoesThere(string probe)
    {
        await using var gateway = await TestGateway.Create()
            .Route("a", "/a/{**rest}", "c")
            .Cluster("c", _origins.D1, _origins.D2)
            .TestPlugin(probe)
            .Pipeline($$"""{ "pipeline": [ { "plugin": "{{probe}}", "config": { "tag": "pin", "choose": "d2" } } ] }""")
            .StartAsync();

        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Proxy.GetAsync("a/x");
            Assert.Equal("d2", (await OriginEcho.ReadAsync(response)).Origin);
            Assert.Equal("d2", response.Headers.GetValues("x-candidates").Single());
        }
        Assert.Equal(0, _origins.D1.Requests);
        Assert.Equal(20, _origins.D2.Requests);
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_PluginNarrowsByMetadata_BalancingPicksOnlyAmongTheRest(string probe)
    {
        await using var gateway = await TestGateway.Create()
            .Route("a", "/a/{**rest}", "c")
            .Cluster("c", (_origins.D1, "blue"), (_origins.D2, "green"))
            .TestPlugin(probe)
            .Pipeline($$"""{ "pipeline": [ { "plugin": "{{probe}}", "config": { "tag": "ab", "group": "green" } } ] }""")
            .StartAsync();

        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Proxy.GetAsync("a/x");
            Assert.Equal("d2", (await OriginEcho.ReadAsync(response)).Origin);
        }
        Assert.Equal(0, _origins.D1.Requests);
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_NoDestinationLeft_Answers503Problem(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""{ "pipeline": [ { "plugin": "{{probe}}", "config": { "tag": "ab", "group": "nobody" } } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, _origins.D1.Requests);
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_VarsSetByOneStage_AreSeenByLaterStages(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""
                { "pipeline": [
                  { "plugin": "{{probe}}", "config": { "tag": "user", "setVar": "alice" } },
                  { "plugin": "{{probe}}", "config": { "tag": "reader", "echoVar": "user" } }
                ] }
                """)
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");

        Assert.Equal("alice", response.Headers.GetValues("x-var").Single());
    }

    [Theory]
    [InlineData("Probe", "throwOnRequest")]
    [InlineData("Probe", "throwOnResponse")]
    [InlineData("FilterProbe", "throwOnRequest")]
    [InlineData("FilterProbe", "throwOnResponse")]
    public async Task Invoke_PluginThrows_FailsThatRequestWithProblemAndKeepsServing(string probe, string where)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""
                { "pipeline": [
                  { "plugin": "{{probe}}", "config": { "tag": "bystander" } },
                  { "plugin": "{{probe}}", "routes": ["a"], "config": { "tag": "boom", "{{where}}": true } }
                ] }
                """)
            .StartAsync();

        using var failed = await gateway.Proxy.GetAsync("a/x");
        var body = await failed.Content.ReadAsStringAsync();
        using var next = await gateway.Proxy.GetAsync("b/x");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("application/problem+json", failed.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal(500, (int)problem["status"]!);
        Assert.False(string.IsNullOrEmpty((string?)problem["traceId"]));
        Assert.DoesNotContain("boom", body);
        Assert.DoesNotContain("Probe", body);
        Assert.False(failed.Headers.Contains("x-origin"), "the upstream's headers must not reach the client");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Contains(gateway.Logs.Lines, line => line.EventId == EventIds.StageFailed && line.Message.Contains($"plugin \"{probe}\"", StringComparison.Ordinal));

        // The error counts against the stage it started in, not the stage it unwound through.
        var pipeline = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!;
        Assert.Equal(0, (long)pipeline["entries"]![0]!["errors"]!);
        Assert.Equal(1, (long)pipeline["entries"]![1]!["errors"]!);
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_StageAnswers_StagesBeforeItSeeTheAnswerAndTheOriginIsNeverCalled(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""
                { "pipeline": [
                  { "plugin": "{{probe}}", "config": { "tag": "outer" } },
                  { "plugin": "{{probe}}", "config": { "tag": "gate", "respond": 418 } },
                  { "plugin": "{{probe}}", "config": { "tag": "never" } }
                ] }
                """)
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("probe:gate", await response.Content.ReadAsStringAsync());
        // Only the stage before the one that answered unwinds through it; the answering stage and later ones do not.
        Assert.Equal("outer", response.Headers.GetValues("x-order-out").Single());
        Assert.Equal(0, _origins.D1.Requests);
    }

    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_RequestStepCompletesLater_OrderHolds(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Pipeline($$"""
                { "pipeline": [
                  { "plugin": "{{probe}}", "config": { "tag": "slow", "delayMs": 20 } },
                  { "plugin": "{{probe}}", "config": { "tag": "then", "delayMs": 5 } }
                ] }
                """)
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");

        Assert.Equal("slow,then", (await OriginEcho.ReadAsync(response)).Headers["x-order"]);
        Assert.Equal("then,slow", response.Headers.GetValues("x-order-out").Single());
    }

    // A request's context lives with its HttpContext; HTTP/2 runs a connection's requests at once, each on its own.
    // (Cleartext HTTP/2 needs an endpoint that speaks nothing else: without TLS there is no negotiation.)
    [Theory]
    [InlineData("Probe")]
    [InlineData("FilterProbe")]
    public async Task Invoke_ConcurrentRequestsOnOneHttp2Connection_EachKeepsItsOwnContext(string probe)
    {
        await using var gateway = await TwoRoutes(probe)
            .Arg("--Kestrel:Endpoints:Proxy:Protocols=Http2")
            .Script("carry.js", """
                function onRequest(ctx) { ctx.vars.id = ctx.request.query.get('id'); }
                function onResponse(ctx) { ctx.response.headers.set('x-id', ctx.vars.id); }
                """)
            .Pipeline($$"""
                { "pipeline": [
                  { "plugin": "{{probe}}", "config": { "tag": "p", "delayMs": 5 } },
                  { "script": "scripts/carry.js" }
                ] }
                """)
            .StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async id =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"a/x?id={id}")
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await gateway.Proxy.SendAsync(request);
            return (id, response.Version, Id: response.Headers.GetValues("x-id").Single(), Out: response.Headers.GetValues("x-order-out").Single());
        }));

        Assert.All(responses, r =>
        {
            Assert.Equal(HttpVersion.Version20, r.Version);
            Assert.Equal(r.id.ToString(CultureInfo.InvariantCulture), r.Id);
            Assert.Equal("p", r.Out);
        });
    }

    [Fact]
    public async Task Invoke_FiltersBesideMiddleware_RunAsOneChainInFileOrder()
    {
        await using var gateway = await TwoRoutes("FilterProbe")
            .TestPlugin("Probe")
            .Pipeline("""
                { "pipeline": [
                  { "plugin": "FilterProbe", "config": { "tag": "f1" } },
                  { "plugin": "Probe", "config": { "tag": "m" } },
                  { "plugin": "FilterProbe", "config": { "tag": "f2" } }
                ] }
                """)
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");

        Assert.Equal("f1,m,f2", (await OriginEcho.ReadAsync(response)).Headers["x-order"]);
        Assert.Equal("f2,m,f1", response.Headers.GetValues("x-order-out").Single());
    }

    [Fact]
    public async Task Invoke_UpstreamDown_Answers502Problem()
    {
        var gone = await TestOrigin.StartAsync("gone");
        var url = gone.Url;
        await gone.DisposeAsync();
        await using var gateway = await TestGateway.Create()
            .Route("a", "/a/{**rest}", "c")
            .Cluster("c", gone)
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("a/x");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

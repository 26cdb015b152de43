using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>Script entries in a real gateway: the ctx API, both directions, and sharing with C# plugins.</summary>
public sealed class ScriptStageTests : IAsyncLifetime
{
    private OriginPair _origins = null!;

    public async Task InitializeAsync() => _origins = await OriginPair.StartAsync();

    public async Task DisposeAsync() => await _origins.DisposeAsync();

    private TestGatewayBuilder Gateway() => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origins.D1, _origins.D2)
        .TestPlugin("Probe");

    [Fact]
    public async Task OnRequest_HeaderPathAndQueryChanges_GoUpstream()
    {
        await using var gateway = await Gateway()
            .Script("rewrite.js", """
                function onRequest(ctx) {
                  ctx.request.headers.set('x-seen', [ctx.request.method, ctx.request.path, ctx.request.query.get('q'),
                    ctx.request.host.startsWith('127.0.0.1:'), ctx.request.scheme, ctx.request.clientIp,
                    ctx.request.cookies.get('c'), ctx.route, ctx.cluster, ctx.config.label].join('|'));
                  ctx.request.headers.append('x-list', 'two');
                  ctx.request.headers.remove('x-secret');
                  ctx.request.query.set('added', 'a b');
                  ctx.request.query.remove('drop');
                  ctx.request.path = '/api/rewritten' + ctx.request.path.substring(4);
                }
                """)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/rewrite.js", "config": { "label": "L" } } ] }""")
            .StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/thing?q=1&drop=x");
        request.Headers.Add("x-secret", "s");
        request.Headers.Add("x-list", "one");
        request.Headers.Add("Cookie", "c=cookie-value");

        var echo = await OriginEcho.ReadAsync(await gateway.Proxy.SendAsync(request));

        Assert.Equal("GET|/api/thing|1|true|http|127.0.0.1|cookie-value|api|backend|L", echo.Headers["x-seen"]);
        Assert.Equal("one, two", echo.Headers["x-list"]);
        Assert.False(echo.Headers.ContainsKey("x-secret"));
        Assert.Equal("/api/rewritten/thing?q=1&added=a%20b", echo.Path);
    }

    [Fact]
    public async Task OnResponse_ChangesStatusAndHeadersBeforeTheClientSeesThem()
    {
        await using var gateway = await Gateway()
            .Script("response.js", """
                function onResponse(ctx) {
                  ctx.response.headers.set('x-upstream-status', ctx.response.status);
                  ctx.response.headers.set('x-had-origin', ctx.response.headers.has('x-origin'));
                  ctx.response.headers.remove('x-origin');
                  ctx.response.status = 203;
                }
                """)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/response.js" } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/thing");

        Assert.Equal(HttpStatusCode.NonAuthoritativeInformation, response.StatusCode);
        Assert.Equal("200", response.Headers.GetValues("x-upstream-status").Single());
        Assert.Equal("true", response.Headers.GetValues("x-had-origin").Single());
        Assert.False(response.Headers.Contains("x-origin"));
    }

    [Fact]
    public async Task Respond_AnswersWithoutCallingTheUpstream_AndEarlierStagesUnwind()
    {
        await using var gateway = await Gateway()
            .Script("answer.js", """
                function onRequest(ctx) {
                  if (ctx.request.query.has('json')) ctx.respond(418, { teapot: true, n: 1 }, { 'x-made-by': 'script' });
                  else ctx.respond(202, 'accepted');
                }
                """)
            .Pipeline("""{ "pipeline": [ { "plugin": "Probe", "config": { "tag": "outer" } }, { "script": "scripts/answer.js" }, { "plugin": "Probe", "config": { "tag": "never" } } ] }""")
            .StartAsync();

        using var json = await gateway.Proxy.GetAsync("api/x?json");
        using var text = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal((HttpStatusCode)418, json.StatusCode);
        Assert.Equal("application/json; charset=utf-8", json.Content.Headers.ContentType!.ToString());
        Assert.Equal("""{"teapot":true,"n":1}""", await json.Content.ReadAsStringAsync());
        Assert.Equal("script", json.Headers.GetValues("x-made-by").Single());
        Assert.Equal("outer", json.Headers.GetValues("x-order-out").Single());
        Assert.Equal(HttpStatusCode.Accepted, text.StatusCode);
        Assert.Equal("accepted", await text.Content.ReadAsStringAsync());
        Assert.Equal("text/plain; charset=utf-8", text.Content.Headers.ContentType!.ToString());
        Assert.Equal(0, _origins.D1.Requests + _origins.D2.Requests);
    }

    [Fact]
    public async Task Vars_AreTheBagCSharpPluginsUse_BothWays()
    {
        await using var gateway = await Gateway()
            .Script("vars.js", """
                function onRequest(ctx) {
                  ctx.request.headers.set('x-from-csharp', `${ctx.vars.probe}|${typeof ctx.vars.probe}|${'probe' in ctx.vars}|${Object.keys(ctx.vars).join(',')}`);
                  ctx.vars.fromScript = 'js-value';
                  ctx.vars.count = 2;
                  ctx.vars.flag = true;
                }
                function onResponse(ctx) {
                  ctx.response.headers.set('x-types', [typeof ctx.vars.count, typeof ctx.vars.flag, ctx.vars.missing].join('|'));
                }
                """)
            .Pipeline("""
                { "pipeline": [
                  { "plugin": "Probe", "config": { "tag": "probe", "setVar": "alice", "echoVar": "fromScript" } },
                  { "script": "scripts/vars.js" }
                ] }
                """)
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal("alice|string|true|probe", (await OriginEcho.ReadAsync(response)).Headers["x-from-csharp"]);
        Assert.Equal("js-value", response.Headers.GetValues("x-var").Single());
        Assert.Equal("number|boolean|", response.Headers.GetValues("x-types").Single());
    }

    [Fact]
    public async Task Vars_StartEmptyOnEveryRequest()
    {
        await using var gateway = await Gateway()
            .Script("count.js", """
                function onRequest(ctx) { ctx.vars.n = (ctx.vars.n ?? 0) + 1; }
                function onResponse(ctx) { ctx.response.headers.set('x-n', ctx.vars.n); }
                """)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/count.js" } ] }""")
            .StartAsync();

        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Proxy.GetAsync("api/x");
            Assert.Equal("1", response.Headers.GetValues("x-n").Single());
        }
    }

    [Fact]
    public async Task Upstream_ChooseAndCandidates_PinTheDestination()
    {
        await using var gateway = await Gateway()
            .Script("pin.js", """
                function onRequest(ctx) {
                  ctx.request.headers.set('x-candidates', ctx.upstream.candidates.sort().join(','));
                  ctx.request.headers.set('x-unknown', ctx.upstream.choose('nope'));
                  // The reload's warm-up request has no cluster, so no candidates.
                  if (ctx.upstream.candidates.length > 0 && !ctx.upstream.choose(ctx.config.to)) throw new Error('not a candidate');
                }
                """)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/pin.js", "config": { "to": "d2" } } ] }""")
            .StartAsync();

        for (var i = 0; i < 10; i++)
        {
            var echo = await OriginEcho.ReadAsync(await gateway.Proxy.GetAsync("api/x"));
            Assert.Equal("d2", echo.Origin);
            Assert.Equal("d1,d2", echo.Headers["x-candidates"]);
            Assert.Equal("false", echo.Headers["x-unknown"]);
        }
        Assert.Equal(0, _origins.D1.Requests);
    }

    public static TheoryData<string, string> Misuses => new()
    {
        { "function onResponse(ctx) { MISUSE ctx.respond(200); }", "ctx.respond is available in onRequest only" },
        { "function onRequest(ctx) { MISUSE ctx.response.status = 201; }", "ctx.response is available in onResponse only" },
        { "function onRequest(ctx) { MISUSE ctx.request.headers.set('bad name', 'x'); }", "'bad name' is not a valid header name" },
        { "function onRequest(ctx) { MISUSE ctx.request.headers.set('x-a', 'a\\r\\nb'); }", "cannot contain CR, LF or NUL" },
        { "function onRequest(ctx) { MISUSE ctx.vars.o = { a: 1 }; }", "vars hold strings, numbers, booleans and null" },
        { "function onRequest(ctx) { MISUSE ctx.respond(99); }", "a status is an integer from 100 to 599" },
        { "function onRequest(ctx) { MISUSE ctx.request = null; }", "Cannot assign to read only property 'request'" },
        { "function onRequest(ctx) { MISUSE ctx.config.label = 'changed'; }", "Cannot assign to read only property 'label'" },
        { "function onRequest(ctx) { MISUSE while (true) {} }", "exceeded its bound of 100000 statements" },
    };

    [Theory]
    [MemberData(nameof(Misuses))]
    public async Task ApiMisuse_FailsThatRequestWithAClearMessage(string source, string message)
    {
        // Only requests on a real route misuse the API, so the reload's warm-up request passes. The time bound is
        // widened: on a loaded machine 100,000 statements of a cold script may outlast the default 50 ms, and the
        // statement bound is the one the loop case is about.
        await using var gateway = await Gateway()
            .Arg("--Gateway:Scripts:Timeout=00:00:10")
            .Script("misuse.js", source.Replace("MISUSE", "if (ctx.route === 'api')"))
            .Pipeline("""{ "pipeline": [ { "script": "scripts/misuse.js", "config": { "label": "L" } } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var logged = Assert.Single(gateway.Logs.Lines, line => line.EventId == 110);
        Assert.Contains("scripts/misuse.js", logged.Message);
        Assert.Contains("scripts/misuse.js:1:", logged.Exception!.Message);
        Assert.Contains(message, logged.Exception.Message);
    }

    [Theory]
    [MemberData(nameof(Misuses))]
    public async Task Reload_HookThatFailsOnTheWarmUpRequest_IsRejectedNamingFileLineColumn(string source, string message)
    {
        await using var gateway = await Gateway().Script("ok.js", "function onRequest(ctx) {}")
            .Arg("--Gateway:Scripts:Timeout=00:00:10")
            .Pipeline("""{ "pipeline": [ { "script": "scripts/ok.js" } ] }""")
            .StartAsync();
        gateway.WriteScript("misuse.js", source.Replace("MISUSE", string.Empty));
        gateway.WritePipeline("""{ "pipeline": [ { "script": "scripts/misuse.js", "config": { "label": "L" } } ] }""");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal("$.pipeline[0].script", (string?)error["path"]);
        Assert.Matches(@"^scripts/misuse\.js:1:\d+: ", (string?)error["message"]);
        Assert.Contains(message, (string?)error["message"]);
        Assert.Contains("warm-up request", (string?)error["message"]);
        using var served = await gateway.Proxy.GetAsync("api/x");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Log_WritesALineTaggedWithTheScriptAndRoute()
    {
        await using var gateway = await Gateway()
            .Script("log.js", "function onRequest(ctx) { ctx.log(`hello ${ctx.request.path}`); }")
            .Pipeline("""{ "pipeline": [ { "script": "scripts/log.js" } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = Assert.Single(gateway.Logs.Lines, line => line.EventId == 300);
        Assert.Equal("scripts/log.js (route api): hello /api/x", line.Message);
    }

    [Fact]
    public async Task AdminPipeline_ShowsEachScriptsHashAndCounters()
    {
        await using var gateway = await Gateway()
            .Script("tag.js", "function onRequest(ctx) { ctx.request.headers.set('x-tag', '1'); }")
            .Pipeline("""{ "pipeline": [ { "script": "scripts/tag.js" }, { "plugin": "Probe", "config": { "tag": "p" } } ] }""")
            .Arg("--Gateway:Scripts:EnginesPerScript=3")
            .StartAsync();
        for (var i = 0; i < 3; i++)
        {
            (await gateway.Proxy.GetAsync("api/x")).Dispose();
        }

        var view = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!;

        var script = view["entries"]![0]!;
        Assert.Equal("script", (string?)script["kind"]);
        Assert.Equal("scripts/tag.js", (string?)script["name"]);
        Assert.Matches("^sha256:[0-9a-f]{64}$", (string?)script["hash"]);
        Assert.Null(script["version"]);
        Assert.Equal(3, (long)script["calls"]!);
        Assert.Equal(0, (long)script["errors"]!);
        Assert.Equal(0, (long)script["breaches"]!);
        Assert.Equal(3, (long)script["enginesCreated"]!);
        Assert.Matches("^sha256:[0-9a-f]{64}$", (string?)view["entries"]![1]!["hash"]);
        Assert.Null(view["entries"]![1]!["breaches"]);
        Assert.Null(view["entries"]![1]!["enginesCreated"]);
    }
}

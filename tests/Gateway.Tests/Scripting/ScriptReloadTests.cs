using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>Scripts through the admin reload: edits take effect, bad scripts are rejected by file:line:column.</summary>
public sealed class ScriptReloadTests : IAsyncLifetime
{
    private const string Version1 = """
        function onResponse(ctx) { ctx.response.headers.set('x-script-version', '1'); }
        """;

    private const string Version2 = """
        function onResponse(ctx) { ctx.response.headers.set('x-script-version', '2'); }
        """;

    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> StartAsync() => TestGateway.Create()
        .Route("all", "{**rest}", "backend")
        .Cluster("backend", _origin)
        .Script("version.js", Version1)
        .Pipeline("""{ "pipeline": [ { "script": "scripts/version.js" } ] }""")
        .StartAsync();

    [Fact]
    public async Task Reload_AfterAnEdit_NewRequestsRunTheNewCodeAndInFlightOnesFinishOnTheOld()
    {
        await using var gateway = await StartAsync();
        var hashBefore = (string?)JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!["entries"]![0]!["hash"];
        var inFlight = gateway.Proxy.GetAsync("hold/slow");
        await _origin.Holding;

        gateway.WriteScript("version.js", Version2);
        var reloaded = await gateway.ReloadOkAsync();
        using var fresh = await gateway.Proxy.GetAsync("x");
        _origin.Release();
        using var old = await inFlight;

        Assert.Equal("2", fresh.Headers.GetValues("x-script-version").Single());
        Assert.Equal("1", old.Headers.GetValues("x-script-version").Single());
        Assert.NotEqual(hashBefore, (string?)reloaded["entries"]![0]!["hash"]);
    }

    public static TheoryData<string, string, string> BadScripts => new()
    {
        { "syntax error", "function onRequest(ctx) {\n  let x = ;\n}", "scripts/bad.js:2:11: Unexpected token" },
        { "top-level let", "let count = 0;\nfunction onRequest(ctx) { count++; }", "scripts/bad.js:1:1: a top-level 'let' would keep values" },
        { "top-level class", "class Cache {}\nfunction onRequest(ctx) {}", "scripts/bad.js:1:1: a top-level 'class'" },
        { "no hook", "function somethingElse() {}", "scripts/bad.js: defines neither onRequest(ctx) nor onResponse(ctx)" },
        { "top level throws", "\nthrow new Error('not today');\nfunction onRequest(ctx) {}", "scripts/bad.js:2:7: its top level failed: Error: not today" },
        { "top level loops", "for (;;) {}\nfunction onRequest(ctx) {}", "its top level failed: exceeded its bound of" },
        { "sloppy-mode only syntax", "function onRequest(ctx) { with (ctx) {} }", "scripts/bad.js:1:" },
    };

    [Theory]
    [MemberData(nameof(BadScripts))]
    public async Task Reload_BadScript_Answers422NamingFileLineColumnAndTheOldScriptKeepsServing(string what, string source, string message)
    {
        await using var gateway = await StartAsync();
        gateway.WriteScript("bad.js", source);
        gateway.WritePipeline("""{ "pipeline": [ { "script": "scripts/version.js" }, { "script": "scripts/bad.js" } ] }""");

        using var response = await gateway.ReloadAsync();
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{what}: {(int)response.StatusCode} {body}");
        var error = Assert.Single(JsonNode.Parse(body)!["errors"]!.AsArray());
        Assert.Equal("pipeline[1] (script \"scripts/bad.js\")", (string?)error!["entry"]);
        Assert.Equal("$.pipeline[1].script", (string?)error["path"]);
        Assert.Contains(message, (string?)error["message"]);
        using var served = await gateway.Proxy.GetAsync("x");
        Assert.Equal("1", served.Headers.GetValues("x-script-version").Single());
    }

    [Theory]
    [InlineData("scripts/missing.js", "script file not found")]
    [InlineData("plugins.json", "outside the scripts folder")]
    [InlineData("scripts/../appsettings.json", "outside the scripts folder")]
    [InlineData("/etc/passwd", "outside the scripts folder")]
    public async Task Reload_ScriptPathNotAFileInTheScriptsFolder_IsRejected(string path, string message)
    {
        await using var gateway = await StartAsync();
        gateway.WritePipeline($$"""{ "pipeline": [ { "script": "{{path}}" } ] }""");

        using var response = await gateway.ReloadAsync();
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(message, (string?)JsonNode.Parse(body)!["errors"]![0]!["message"]);
    }

    [Fact]
    public async Task Reload_OneScriptInTwoEntries_RunsWithEachEntrysConfig()
    {
        await using var gateway = await StartAsync();
        gateway.WriteScript("tag.js", "function onRequest(ctx) { ctx.request.headers.append('x-tags', ctx.config.tag); }");
        gateway.WritePipeline("""
            { "pipeline": [
              { "script": "scripts/tag.js", "config": { "tag": "first" } },
              { "script": "scripts/tag.js", "config": { "tag": "second" } }
            ] }
            """);

        await gateway.ReloadOkAsync();
        var echo = await OriginEcho.ReadAsync(await gateway.Proxy.GetAsync("x"));

        Assert.Equal("first, second", echo.Headers["x-tags"]);
    }

    [Fact]
    public async Task Reload_ScriptBoundsFromConfiguration_ApplyToTheNewPipeline()
    {
        await using var gateway = await StartAsync();
        // Busy only when asked, so the reload's warm-up request stays within the lower bound.
        gateway.WriteScript("busy.js", "function onRequest(ctx) { if (!ctx.request.query.has('busy')) return; let s = 0; for (let i = 0; i < 5000; i++) s += i; }");
        gateway.WritePipeline("""{ "pipeline": [ { "script": "scripts/busy.js" } ] }""");
        await gateway.ReloadOkAsync();
        using var before = await gateway.Proxy.GetAsync("x?busy");

        var settingsFile = Path.Combine(gateway.Directory, "appsettings.json");
        var settings = JsonNode.Parse(File.ReadAllText(settingsFile))!;
        settings["Gateway"] = new JsonObject { ["Scripts"] = new JsonObject { ["MaxStatements"] = 1000 } };
        File.WriteAllText(settingsFile, settings.ToJsonString());
        await gateway.ReloadOkAsync();
        using var after = await gateway.Proxy.GetAsync("x?busy");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, after.StatusCode);
    }

    [Fact]
    public async Task Reload_UnworkableScriptBound_IsRejectedNamingTheSetting()
    {
        await using var gateway = await StartAsync();
        var settingsFile = Path.Combine(gateway.Directory, "appsettings.json");
        var settings = JsonNode.Parse(File.ReadAllText(settingsFile))!;
        settings["Gateway"] = new JsonObject { ["Scripts"] = new JsonObject { ["Timeout"] = "-00:00:01" } };
        File.WriteAllText(settingsFile, settings.ToJsonString());

        using var response = await gateway.ReloadAsync();
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("Gateway:Scripts:Timeout", (string?)error["path"]);
        Assert.Equal("must be positive", (string?)error["message"]);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Plugins;

/// <summary>The first-party HeaderRewrite plugin, built into plugins/ by the solution and loaded like any other.</summary>
public sealed class HeaderRewriteTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> StartAsync(string pipeline) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("HeaderRewrite")
        .TestPlugin("Probe")
        .Pipeline(pipeline)
        .StartAsync();

    [Fact]
    public async Task Request_Rules_ApplyRemoveRenameSetAppendWithTemplates()
    {
        Environment.SetEnvironmentVariable("GATEWAY_TEST_TENANT", "acme");
        await using var gateway = await StartAsync("""
            { "pipeline": [
              { "plugin": "Probe", "config": { "tag": "user", "setVar": "alice" } },
              { "plugin": "HeaderRewrite", "config": { "request": {
                  "remove": ["x-secret"],
                  "rename": { "x-old": "x-new" },
                  "set": { "x-route": "{route}/{cluster}", "x-user": "user={var:user}", "x-tenant": "${env:GATEWAY_TEST_TENANT}", "x-braces": "{{literal}}" },
                  "append": { "x-list": "added" }
              } } }
            ] }
            """);
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/thing");
        request.Headers.Add("x-secret", "s3cr3t");
        request.Headers.Add("x-old", "moved");
        request.Headers.Add("x-list", "original");

        var echo = await OriginEcho.ReadAsync(await gateway.Proxy.SendAsync(request));

        Assert.False(echo.Headers.ContainsKey("x-secret"));
        Assert.False(echo.Headers.ContainsKey("x-old"));
        Assert.Equal("moved", echo.Headers["x-new"]);
        Assert.Equal("api/backend", echo.Headers["x-route"]);
        Assert.Equal("user=alice", echo.Headers["x-user"]);
        Assert.Equal("acme", echo.Headers["x-tenant"]);
        Assert.Equal("{literal}", echo.Headers["x-braces"]);
        Assert.Equal("original, added", echo.Headers["x-list"]);
    }

    [Fact]
    public async Task Response_Rules_ChangeTheUpstreamsHeadersBeforeTheClientSeesThem()
    {
        await using var gateway = await StartAsync("""
            { "pipeline": [ { "plugin": "HeaderRewrite", "config": { "response": {
                "remove": ["x-origin"],
                "set": { "x-served-by": "gateway {clientIp}", "x-request-id": "{requestId}" }
            } } } ] }
            """);

        using var response = await gateway.Proxy.GetAsync("api/thing");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-origin"));
        Assert.Equal("gateway 127.0.0.1", response.Headers.GetValues("x-served-by").Single());
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("x-request-id").Single()));
        Assert.Equal("d1", (await OriginEcho.ReadAsync(response)).Origin);
    }

    [Theory]
    [InlineData("""{ "request": { "set": { "x-a": "{nope}" } } }""", "$.pipeline[0].config.request.set.x-a", "unknown placeholder")]
    [InlineData("""{ "request": { "set": { "x-a": "{route" } } }""", "$.pipeline[0].config.request.set.x-a", "not closed")]
    [InlineData("""{ "response": { "remove": ["bad header"] } }""", "$.pipeline[0].config.response.remove[0]", "not a valid header name")]
    [InlineData("""{ "request": { "sett": {} } }""", "$.pipeline[0].config", "sett")]
    [InlineData("""{ }""", "$.pipeline[0].config", "no rules")]
    public async Task Load_InvalidConfig_IsRejectedWithThePath(string config, string path, string message)
    {
        await using var gateway = await StartAsync("""{ "pipeline": [] }""");
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "HeaderRewrite", "config": {{config}} } ] }""");

        using var response = await gateway.ReloadAsync();
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = JsonNode.Parse(body)!["errors"]![0]!;
        Assert.StartsWith(path, (string?)error["path"]);
        Assert.Contains(message, (string?)error["message"]);
    }
}

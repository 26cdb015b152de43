using System.Net;
using System.Text.Json.Nodes;
using Gateway.Plugins.Testing;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Plugins;

/// <summary>
/// The first-party HeaderRewrite plugin, built into plugins/ by the solution, hosted by the plugin authors' test kit
/// (<see cref="PluginHost"/>) as any plugin author's tests would host theirs.
/// </summary>
public sealed class HeaderRewriteTests
{
    private static readonly string HeaderRewrite = Path.Combine(RepoPaths.FirstPartyPlugins, "HeaderRewrite");

    [Fact]
    public async Task Request_Rules_ApplyRemoveRenameSetAppendWithTemplates()
    {
        Environment.SetEnvironmentVariable("GATEWAY_TEST_TENANT", "acme");
        await using var host = await PluginHost.Create()
            .Plugin(Path.Combine(RepoPaths.TestPlugins, "Probe"), """{ "tag": "user", "setVar": "alice" }""")
            .Plugin(HeaderRewrite, """
                { "request": {
                  "remove": ["x-secret"],
                  "rename": { "x-old": "x-new" },
                  "set": { "x-route": "{route}/{cluster}", "x-user": "user={var:user}", "x-tenant": "${env:GATEWAY_TEST_TENANT}", "x-braces": "{{literal}}" },
                  "append": { "x-list": "added" }
                } }
                """)
            .StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/thing");
        request.Headers.Add("x-secret", "s3cr3t");
        request.Headers.Add("x-old", "moved");
        request.Headers.Add("x-list", "original");

        using var response = await host.Client.SendAsync(request);
        var received = host.Origin.LastRequest.Headers;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(received.ContainsKey("x-secret"));
        Assert.False(received.ContainsKey("x-old"));
        Assert.Equal("moved", received["x-new"]);
        Assert.Equal("default/origin", received["x-route"]);
        Assert.Equal("user=alice", received["x-user"]);
        Assert.Equal("acme", received["x-tenant"]);
        Assert.Equal("{literal}", received["x-braces"]);
        Assert.Equal("original, added", received["x-list"]);
    }

    [Fact]
    public async Task Response_Rules_ChangeTheUpstreamsHeadersBeforeTheClientSeesThem()
    {
        await using var host = await PluginHost.Create()
            .Plugin(HeaderRewrite, """
                { "response": {
                  "remove": ["x-origin"],
                  "set": { "x-served-by": "gateway {clientIp}", "x-request-id": "{requestId}" }
                } }
                """)
            .Origin(context =>
            {
                context.Response.Headers["x-origin"] = "internal-host-7";
                return context.Response.WriteAsync("from the origin");
            })
            .StartAsync();

        using var response = await host.Client.GetAsync("api/thing");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-origin"));
        Assert.Equal("gateway 127.0.0.1", response.Headers.GetValues("x-served-by").Single());
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("x-request-id").Single()));
        Assert.Equal("from the origin", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{ "request": { "set": { "x-a": "{nope}" } } }""", "$.pipeline[0].config.request.set.x-a", "unknown placeholder")]
    [InlineData("""{ "request": { "set": { "x-a": "{route" } } }""", "$.pipeline[0].config.request.set.x-a", "not closed")]
    [InlineData("""{ "response": { "remove": ["bad header"] } }""", "$.pipeline[0].config.response.remove[0]", "not a valid header name")]
    [InlineData("""{ "request": { "sett": {} } }""", "$.pipeline[0].config", "sett")]
    [InlineData("""{ }""", "$.pipeline[0].config", "no rules")]
    public async Task Load_InvalidConfig_IsRejectedWithThePath(string config, string path, string message)
    {
        await using var host = await PluginHost.Create().Plugin(HeaderRewrite, """{ "request": { "set": { "x-a": "1" } } }""").StartAsync();
        File.WriteAllText(Path.Combine(host.Directory, "plugins.json"), $$"""{ "pipeline": [ { "plugin": "HeaderRewrite", "config": {{config}} } ] }""");

        using var response = await host.ReloadAsync();
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = JsonNode.Parse(body)!["errors"]![0]!;
        Assert.StartsWith(path, (string?)error["path"]);
        Assert.Contains(message, (string?)error["message"]);
    }

    [Fact]
    public async Task Start_WithAConfigThePluginRejects_ThrowsTheGatewaysOwnMessage()
    {
        var failed = await Assert.ThrowsAsync<PluginHostException>(() => PluginHost.Create().Plugin(HeaderRewrite, "{ }").StartAsync());

        Assert.Contains("pipeline[0] (plugin \"HeaderRewrite\") at $.pipeline[0].config", failed.Message);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Plugins;

/// <summary>
/// The first-party IpFilter plugin in front of a real origin, and the host's trusted proxies: the client address the
/// filter, HeaderRewrite's <c>{clientIp}</c> and a script's <c>ctx.request.clientIp</c> see is the real one, which a
/// client's own X-Forwarded-For cannot choose.
/// </summary>
public sealed class IpFilterPluginTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> StartAsync(string filterConfig, params string[] args) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("IpFilter")
        .FirstPartyPlugin("HeaderRewrite")
        .Script("client.js", "function onResponse(ctx) { ctx.response.headers.set('x-script-client', ctx.request.clientIp); }")
        .Pipeline($$"""
            { "pipeline": [
              { "plugin": "IpFilter", "config": {{filterConfig}} },
              { "plugin": "HeaderRewrite", "config": { "request": { "set": { "x-client": "{clientIp}" } } } },
              { "script": "scripts/client.js" }
            ] }
            """)
        .Args(args)
        .StartAsync();

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }
        return await gateway.Proxy.SendAsync(request);
    }

    [Theory]
    [InlineData("""{ "deny": ["127.0.0.0/8"] }""", HttpStatusCode.Forbidden)]
    [InlineData("""{ "allow": ["::1/128"] }""", HttpStatusCode.Forbidden)]
    [InlineData("""{ "allow": ["127.0.0.1"] }""", HttpStatusCode.OK)]
    [InlineData("""{ "allow": ["127.0.0.0/8"], "deny": ["127.0.0.1"] }""", HttpStatusCode.Forbidden)]
    [InlineData("""{ "deny": ["192.0.2.0/24", "2001:db8::/32"] }""", HttpStatusCode.OK)]
    public async Task TheClientsAddress_IsLetThroughOrRefused_AsTheListsSay(string config, HttpStatusCode expected)
    {
        await using var gateway = await StartAsync(config);

        using var response = await GetAsync(gateway);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(403, (int?)problem["status"]);
            Assert.NotNull((string?)problem["traceId"]);
            Assert.Equal(0, _origin.Requests);
        }
    }

    [Fact]
    public async Task ForwardedFor_FromAPeerThatIsNotTrusted_IsIgnored()
    {
        await using var gateway = await StartAsync("""{ "deny": ["192.0.2.0/24"] }""");

        using var spoofed = await GetAsync(gateway, forwardedFor: "198.51.100.1, 192.0.2.7");

        Assert.Equal(HttpStatusCode.OK, spoofed.StatusCode);
        Assert.Equal("127.0.0.1", spoofed.Headers.GetValues("x-script-client").Single());
        Assert.Equal("127.0.0.1", (await OriginEcho.ReadAsync(spoofed)).Headers["x-client"]);
    }

    [Theory]
    // The right-most address that is not a trusted proxy is the client; anything left of it is the client's own say.
    [InlineData("192.0.2.7", HttpStatusCode.Forbidden, "192.0.2.7")]
    [InlineData("192.0.2.7, 10.1.2.3", HttpStatusCode.Forbidden, "192.0.2.7")]
    [InlineData("192.0.2.7, 10.1.2.3, 10.200.0.1", HttpStatusCode.Forbidden, "192.0.2.7")]
    [InlineData("192.0.2.7, 198.51.100.1", HttpStatusCode.OK, "198.51.100.1")]
    [InlineData("192.0.2.7, 198.51.100.1, 10.1.2.3", HttpStatusCode.OK, "198.51.100.1")]
    public async Task ForwardedFor_FromTrustedProxies_GivesTheClient_AsTheRightMostUntrustedHop(string forwardedFor, HttpStatusCode expected, string client)
    {
        await using var gateway = await StartAsync("""{ "deny": ["192.0.2.0/24"] }""",
            "--Gateway:ForwardedHeaders:KnownProxies:0=127.0.0.1", "--Gateway:ForwardedHeaders:KnownNetworks:0=10.0.0.0/8");

        using var response = await GetAsync(gateway, forwardedFor);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(client, response.Headers.GetValues("x-script-client").Single());
            Assert.Equal(client, (await OriginEcho.ReadAsync(response)).Headers["x-client"]);
        }
    }

    [Theory]
    [InlineData("KnownProxies:0=10.0.0.0/8", "Gateway:ForwardedHeaders:KnownProxies:0: '10.0.0.0/8' is not an IP address")]
    [InlineData("KnownNetworks:0=10.0.0.1/8", "Gateway:ForwardedHeaders:KnownNetworks:0: '10.0.0.1/8' is not a CIDR range")]
    public async Task ATrustedProxyThatIsNotAnAddress_StopsTheStart_NamingTheSetting(string setting, string message)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync("""{ "deny": ["192.0.2.0/24"] }""", $"--Gateway:ForwardedHeaders:{setting}"));

        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "deny": ["10.0.0.1/8"] }""", "$.pipeline[0].config.deny[0]", "the range is written 10.0.0.0/8")]
    [InlineData("""{ "allow": ["192.0.2.0/24", "not-an-ip"] }""", "$.pipeline[0].config.allow[1]", "is not an IP address")]
    [InlineData("""{ }""", "$.pipeline[0].config", "no rule")]
    public async Task BadConfig_IsRejectedNamingTheEntry_AndThePreviousPipelineKeepsServing(string config, string path, string message)
    {
        await using var gateway = await StartAsync("""{ "deny": ["192.0.2.0/24"] }""");
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "IpFilter", "config": {{config}} } ] }""");

        var error = await gateway.ReloadRejectedAsync();
        using var still = await GetAsync(gateway);

        Assert.Equal(path, (string?)error["path"]);
        Assert.Contains(message, (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }
}

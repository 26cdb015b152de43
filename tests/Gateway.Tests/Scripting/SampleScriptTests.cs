using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>The samples shipped in scripts/, run from their files as a user would configure them.</summary>
public sealed class SampleScriptTests : IAsyncLifetime
{
    private OriginPair _origins = null!;

    public async Task InitializeAsync() => _origins = await OriginPair.StartAsync();

    public async Task DisposeAsync() => await _origins.DisposeAsync();

    private Task<TestGateway> StartAsync(string sample, string pipeline) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origins.D1, _origins.D2)
        .SampleScript(sample)
        .Pipeline(pipeline)
        .StartAsync();

    [Fact]
    public async Task Tag_SetsTheConfiguredHeaderBothWays()
    {
        await using var gateway = await StartAsync("tag.js", """{ "pipeline": [ { "script": "scripts/tag.js", "config": { "tag": "blue" } } ] }""");

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal("blue", (await OriginEcho.ReadAsync(response)).Headers["x-gateway-tag"]);
        Assert.Equal("blue", response.Headers.GetValues("x-gateway-tag").Single());
    }

    private const string AbPipeline = """
        { "pipeline": [ { "script": "scripts/ab.js", "config": { "cookie": "ab", "variants": [
          { "name": "a", "destination": "d1", "weight": 90 },
          { "name": "b", "destination": "d2", "weight": 10 } ] } } ] }
        """;

    [Fact]
    public async Task Ab_NewClientsSplitNinetyTen_AndEachGetsACookieMatchingItsDestination()
    {
        await using var gateway = await StartAsync("ab.js", AbPipeline);
        var variants = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 };

        for (var i = 0; i < 1000; i++)
        {
            using var response = await gateway.Proxy.GetAsync("api/x");
            var variant = response.Headers.GetValues("x-ab-variant").Single();
            var cookie = response.Headers.GetValues("Set-Cookie").Single();
            Assert.StartsWith($"ab={variant}; Max-Age=2592000; Path=/", cookie);
            Assert.Equal(variant == "a" ? "d1" : "d2", (await OriginEcho.ReadAsync(response)).Origin);
            variants[variant]++;
        }

        // 10 % of 1000 is 100 with a standard deviation of ~9.5; 43 either side is 4.5 deviations.
        Assert.InRange(variants["b"], 57, 143);
    }

    [Theory]
    [InlineData("a", "d1")]
    [InlineData("b", "d2")]
    public async Task Ab_AClientWithACookie_KeepsItsVariantAndGetsNoNewCookie(string variant, string origin)
    {
        await using var gateway = await StartAsync("ab.js", AbPipeline);

        for (var i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
            request.Headers.Add("Cookie", $"ab={variant}");
            using var response = await gateway.Proxy.SendAsync(request);
            Assert.Equal(origin, (await OriginEcho.ReadAsync(response)).Origin);
            Assert.Equal(variant, response.Headers.GetValues("x-ab-variant").Single());
            Assert.False(response.Headers.Contains("Set-Cookie"));
        }
    }

    [Theory]
    [InlineData("""{ "paths": ["/api/admin"] }""", "api/admin/users", HttpStatusCode.Forbidden)]
    [InlineData("""{ "paths": ["/api/admin"] }""", "api/public", HttpStatusCode.OK)]
    [InlineData("""{ "clientIps": ["127.0.0.1"] }""", "api/public", HttpStatusCode.Forbidden)]
    [InlineData("""{ "clientIps": ["192.0.2.7"] }""", "api/public", HttpStatusCode.OK)]
    public async Task Deny_ListedPathsAndClientIps_Get403WithoutReachingTheUpstream(string config, string path, HttpStatusCode expected)
    {
        await using var gateway = await StartAsync("deny.js", $$"""{ "pipeline": [ { "script": "scripts/deny.js", "config": {{config}} } ] }""");

        using var response = await gateway.Proxy.GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal(0, _origins.D1.Requests + _origins.D2.Requests);
        }
    }

    [Fact]
    public async Task ApiKey_OnlyAConfiguredKeyPasses_AndTheKeyNeverGoesUpstream()
    {
        Environment.SetEnvironmentVariable("GATEWAY_TEST_SAMPLE_KEY", "k-from-env");
        await using var gateway = await StartAsync("apikey.js", """
            { "pipeline": [ { "script": "scripts/apikey.js", "config": { "keys": { "alice": "k-alice", "ci": "${env:GATEWAY_TEST_SAMPLE_KEY}" } } } ] }
            """);

        using var missing = await gateway.Proxy.GetAsync("api/x");
        using var wrong = await SendWithKeyAsync(gateway, "k-wrong");
        using var alice = await SendWithKeyAsync(gateway, "k-alice");
        using var ci = await SendWithKeyAsync(gateway, "k-from-env");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("ApiKey header=\"x-api-key\"", missing.Headers.WwwAuthenticate.Single().ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        var echo = await OriginEcho.ReadAsync(alice);
        Assert.Equal("alice", echo.Headers["x-consumer"]);
        Assert.False(echo.Headers.ContainsKey("x-api-key"));
        Assert.Equal("ci", (await OriginEcho.ReadAsync(ci)).Headers["x-consumer"]);
    }

    private static Task<HttpResponseMessage> SendWithKeyAsync(TestGateway gateway, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
        request.Headers.Add("x-api-key", key);
        return gateway.Proxy.SendAsync(request);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Plugins;

/// <summary>The first-party RateLimit plugin, loaded like any plugin, in front of a real origin.</summary>
public sealed class RateLimitPluginTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> StartAsync(string config) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Route("other", "/other/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("RateLimit")
        .Pipeline($$"""{ "pipeline": [ { "plugin": "RateLimit", "routes": ["api"], "config": {{config}} } ] }""")
        .StartAsync();

    [Fact]
    public async Task PastTheLimit_TheClientGets429ProblemWithRetryAfter_AndTheOriginNothing()
    {
        await using var gateway = await StartAsync("""{ "limits": [ { "key": "clientIp", "window": { "limit": 3, "per": "01:00:00" } } ] }""");

        var allowed = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            allowed.Add(await gateway.Proxy.GetAsync("api/x"));
        }
        using var refused = await gateway.Proxy.GetAsync("api/x");
        using var otherRoute = await gateway.Proxy.GetAsync("other/x");

        Assert.All(allowed, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Equal(["\"0\";r=2;t=3600", "\"0\";r=1;t=3600", "\"0\";r=0;t=3600"], allowed.Select(response => response.Headers.GetValues("RateLimit").Single()));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal(429, (int?)problem["status"]);
        Assert.NotNull((string?)problem["traceId"]);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 3600);
        Assert.Equal("\"0\";q=3;w=3600", refused.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal(HttpStatusCode.OK, otherRoute.StatusCode);
        Assert.Equal(4, _origin.Requests);
        allowed.ForEach(response => response.Dispose());
    }

    [Fact]
    public async Task TheLocalStore_AdmitsExactlyItsLimit_UnderConcurrentRequests()
    {
        await using var gateway = await StartAsync("""{ "limits": [ { "key": "route", "window": { "limit": 100, "per": "01:00:00" } } ] }""");

        var statuses = await Task.WhenAll(Enumerable.Range(0, 300).Select(async _ =>
        {
            using var response = await gateway.Proxy.GetAsync("api/x");
            return response.StatusCode;
        }));

        Assert.Equal(100, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(200, statuses.Count(status => status == HttpStatusCode.TooManyRequests));
        Assert.Equal(100, _origin.Requests);
    }

    [Fact]
    public async Task BadConfig_IsRejectedNamingTheField_AndThePreviousPipelineKeepsLimiting()
    {
        await using var gateway = await StartAsync("""{ "limits": [ { "key": "clientIp", "window": { "limit": 1, "per": "01:00:00" } } ] }""");
        using var first = await gateway.Proxy.GetAsync("api/x");
        gateway.WritePipeline("""{ "pipeline": [ { "plugin": "RateLimit", "config": { "limits": [ { "key": "clientIp", "window": { "limit": 0, "per": "00:00:01" } } ] } } ] }""");

        var error = await gateway.ReloadRejectedAsync();
        using var second = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal("$.pipeline[0].config.limits[0].window.limit", (string?)error["path"]);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Plugins;

/// <summary>The RateLimit plugin's <c>redis</c> store on a real redis-server: one count for every node, and an outage that fails open or closed as configured.</summary>
public sealed class RateLimitRedisTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    // Counting tests give Redis longer than the default 250 ms: 300 requests at once on a loaded 2-core machine may
    // outwait it, and a decision that times out is counted on the node alone (fail open), which is not what they test.
    private Task<TestGateway> NodeAsync(string redis, string limit, bool failOpen = true, string operationTimeout = "00:00:05") => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("RateLimit")
        .Pipeline($$"""{ "pipeline": [ { "plugin": "RateLimit", "config": { "store": "redis", "failOpen": {{(failOpen ? "true" : "false")}}, "limits": [ {{limit}} ] } } ] }""")
        .Arg($"--ConnectionStrings:Redis={redis}")
        .Arg($"--Gateway:Cache:OperationTimeout={operationTimeout}")
        .StartAsync();

    private static async Task<HttpStatusCode> GetAsync(TestGateway node, string run)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/x") { Headers = { { "x-run", run } } };
        using var response = await node.Proxy.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Requests spread over the nodes, all at once; how many each status got.</summary>
    private static async Task<(int Ok, int Refused)> SpreadAsync(TestGateway[] nodes, int requests, string run)
    {
        var statuses = await Task.WhenAll(Enumerable.Range(0, requests).Select(i => GetAsync(nodes[i % nodes.Length], run)));
        return (statuses.Count(status => status == HttpStatusCode.OK), statuses.Count(status => status == HttpStatusCode.TooManyRequests));
    }

    [RedisTheory]
    [InlineData("""{ "key": "header:x-run", "window": { "limit": 100, "per": "00:10:00" } }""", 100)]
    [InlineData("""{ "key": "header:x-run", "tokenBucket": { "rate": 1, "per": "01:00:00", "burst": 100 } }""", 100)]
    public async Task ThreeNodes_SharingOneRedis_AdmitTheLimitOnceBetweenThem(string limit, int admitted)
    {
        var redis = Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)!;
        await using var a = await NodeAsync(redis, limit);
        await using var b = await NodeAsync(redis, limit);
        await using var c = await NodeAsync(redis, limit);
        // The Redis outlives test runs: a key of this run's own keeps its counts apart.
        var run = Guid.NewGuid().ToString("N");

        var (ok, refused) = await SpreadAsync([a, b, c], 300, run);

        Assert.Equal((admitted, 300 - admitted), (ok, refused));
        Assert.Equal(admitted, _origin.Requests);
    }

    [RedisFact]
    public async Task TheSharedStore_GivesTheRemainingQuotaInTheResponseFields()
    {
        var redis = Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)!;
        await using var node = await NodeAsync(redis, """{ "key": "header:x-run", "name": "run", "window": { "limit": 5, "per": "00:10:00" } }""");
        var run = Guid.NewGuid().ToString("N");

        using var request = new HttpRequestMessage(HttpMethod.Get, "api/x") { Headers = { { "x-run", run } } };
        using var response = await node.Proxy.SendAsync(request);

        Assert.Equal("\"run\";q=5;w=600", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("\"run\";r=4;t=600", response.Headers.GetValues("RateLimit").Single());
    }

    [RedisTheory(needsOwnServer: true)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RedisDown_FailOpenCountsOnEachNode_FailClosedAnswers503_AndHealthSaysDegraded(bool failOpen)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var node = await NodeAsync(redis.ConnectionString, """{ "key": "header:x-run", "window": { "limit": 3, "per": "00:10:00" } }""", failOpen, "00:00:00.250");
        var run = Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.OK, await GetAsync(node, run));

        await redis.StopAsync();
        var during = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            during.Add(await GetAsync(node, run));
        }
        var health = (string?)JsonNode.Parse(await node.Admin.GetStringAsync("healthz"))!["status"];

        // Open: the node counts alone (its local count starts afresh: 3 admitted, then refused); closed: 503, never the origin.
        Assert.Equal(failOpen
            ? [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]
            : Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 5), during);
        Assert.Equal("degraded", health);
        Assert.Single(node.Logs.Lines, line => line.Message.StartsWith("The shared rate-limit store is failing", StringComparison.Ordinal));
    }
}

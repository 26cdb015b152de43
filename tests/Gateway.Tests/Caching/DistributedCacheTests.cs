using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Caching;

/// <summary>The cache the host gives plugins: in-process by default, Redis when configured, and never the reason a request fails.</summary>
public sealed class DistributedCacheTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> StartAsync(string? redis)
    {
        var builder = TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", _origin)
            .TestPlugin("CacheProbe")
            .Pipeline("""{ "pipeline": [ { "plugin": "CacheProbe" } ] }""");
        return (redis is null ? builder : builder.Arg($"--ConnectionStrings:Redis={redis}")).StartAsync();
    }

    private static async Task<HttpResponseMessage> SendAsync(TestGateway gateway, string? set = null, string? get = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
        if (set is not null)
        {
            request.Headers.Add("x-cache-set", set);
        }
        if (get is not null)
        {
            request.Headers.Add("x-cache-get", get);
        }
        return await gateway.Proxy.SendAsync(request);
    }

    private static async Task<JsonNode> HealthAsync(TestGateway gateway) => JsonNode.Parse(await gateway.Admin.GetStringAsync("healthz"))!;

    [Fact]
    public async Task NoRedisConfigured_PluginsGetAnInProcessCache()
    {
        await using var gateway = await StartAsync(redis: null);

        (await SendAsync(gateway, set: "k=v")).Dispose();
        using var read = await SendAsync(gateway, get: "k");

        Assert.Equal("v", read.Headers.GetValues("x-cache-value").Single());
        var health = await HealthAsync(gateway);
        Assert.Equal("healthy", (string?)health["status"]);
        Assert.Equal("memory", (string?)health["cache"]!["kind"]);
    }

    [RedisFact]
    public async Task TwoGatewaysSharingARedis_SeeEachOthersEntries()
    {
        var redis = Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)!;
        await using var first = await StartAsync(redis);
        await using var second = await StartAsync(redis);
        var key = "shared-" + Guid.NewGuid().ToString("N");

        (await SendAsync(first, set: $"{key}=written-by-first")).Dispose();
        using var read = await SendAsync(second, get: key);

        Assert.Equal("written-by-first", read.Headers.GetValues("x-cache-value").Single());
        Assert.Equal("redis", (string?)(await HealthAsync(second))["cache"]!["kind"]);
    }

    [RedisFact(needsOwnServer: true)]
    public async Task RedisGoesDown_RequestsAreServedUncachedHealthSaysDegraded_AndCachingResumesWhenItReturns()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var gateway = await StartAsync(redis.ConnectionString);
        (await SendAsync(gateway, set: "k=before")).Dispose();
        using (var before = await SendAsync(gateway, get: "k"))
        {
            Assert.Equal("before", before.Headers.GetValues("x-cache-value").Single());
        }

        await redis.StopAsync();
        for (var i = 0; i < 20; i++)
        {
            using var during = await SendAsync(gateway, set: "k=during", get: "k");
            Assert.Equal(HttpStatusCode.OK, during.StatusCode);
            Assert.Equal("(miss)", during.Headers.GetValues("x-cache-value").Single());
        }
        var degraded = await HealthAsync(gateway);
        Assert.Equal("degraded", (string?)degraded["status"]);
        Assert.Equal("failing", (string?)degraded["cache"]!["status"]);

        await redis.StartAgainAsync();
        string? value = null;
        for (var attempt = 0; attempt < 100 && value != "after"; attempt++)
        {
            await Task.Delay(100);
            (await SendAsync(gateway, set: "k=after")).Dispose();
            using var after = await SendAsync(gateway, get: "k");
            value = after.Headers.GetValues("x-cache-value").Single();
        }
        Assert.Equal("after", value);
        Assert.Equal("healthy", (string?)(await HealthAsync(gateway))["status"]);
    }
}

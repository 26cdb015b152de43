using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Gateway.Tests.Plugins;

/// <summary>The Caching plugin on a real redis-server: shared by gateway nodes, and never the reason a request fails.</summary>
public sealed class CachingRedisTests(ITestOutputHelper output)
{
    private static Task<TestOrigin> OriginAsync() => TestOrigin.StartAsync("d1", respond: (context, n) =>
    {
        context.Response.Headers.CacheControl = "max-age=60";
        return context.Response.WriteAsync($"body-{n}");
    });

    private static Task<TestGateway> GatewayAsync(TestOrigin origin, string redis, string config = "{}") => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", origin)
        .FirstPartyPlugin("Caching")
        .Pipeline($$"""{ "pipeline": [ { "plugin": "Caching", "config": {{config}} } ] }""")
        .Arg($"--ConnectionStrings:Redis={redis}")
        .StartAsync();

    private static async Task<(HttpStatusCode Status, string Body, string Cache)> GetAsync(TestGateway gateway, string path)
    {
        // The host is part of the key: nodes behind one load balancer see the same one, not their own ports.
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Host = "api.example" } };
        using var response = await gateway.Proxy.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.GetValues("X-Cache").Single());
    }

    [RedisFact]
    public async Task AResponseCachedThroughOneNode_IsAHitOnAnother()
    {
        var redis = Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)!;
        await using var origin = await OriginAsync();
        await using var first = await GatewayAsync(origin, redis);
        await using var second = await GatewayAsync(origin, redis);
        // The Redis outlives test runs: a path of its own keeps this run's entry apart.
        var path = "api/shared-" + Guid.NewGuid().ToString("N");

        var miss = await GetAsync(first, path);
        // The first node stores the response once its body has gone to the client; its own hit says it has.
        var stored = await GetAsync(first, path);
        var hit = await GetAsync(second, path);

        Assert.Equal(("body-1", "MISS"), (miss.Body, miss.Cache));
        Assert.Equal(("body-1", "HIT"), (stored.Body, stored.Cache));
        Assert.Equal(("body-1", "HIT"), (hit.Body, hit.Cache));
    }

    [RedisFact(needsOwnServer: true)]
    public async Task RedisStoppedAndRestartedDuringTraffic_NoRequestFails_HealthSaysDegraded_AndCachingResumes()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var origin = await OriginAsync();
        // Without the node-local copy, so every hit is a Redis read.
        await using var gateway = await GatewayAsync(origin, redis.ConnectionString, """{ "localSeconds": 0 }""");
        Assert.Equal("MISS", (await GetAsync(gateway, "api/item")).Cache);

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var latencies = new ConcurrentBag<double>();
        var served = 0;
        var traffic = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                var (status, body, _) = await GetAsync(gateway, "api/item");
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref served);
                if (status != HttpStatusCode.OK || !body.StartsWith("body-", StringComparison.Ordinal))
                {
                    lock (failures)
                    {
                        failures.Add($"{(int)status} {body}");
                    }
                }
            }
        })).ToArray();

        await Task.Delay(300);
        await redis.StopAsync();
        await Task.Delay(1000);
        var degraded = JsonNode.Parse(await gateway.Admin.GetStringAsync("healthz"))!;
        await redis.StartAgainAsync();
        // The client reconnects its two connections one after the other, and fails operations at once until both are
        // back; the first success after that clears the failure.
        string cache = "";
        string? health = null;
        for (var attempt = 0; attempt < 100 && (cache != "HIT" || health != "healthy"); attempt++)
        {
            await Task.Delay(100);
            cache = (await GetAsync(gateway, "api/item")).Cache;
            health = (string?)JsonNode.Parse(await gateway.Admin.GetStringAsync("healthz"))!["status"];
        }
        await stop.CancelAsync();
        await Task.WhenAll(traffic);
        // Reported, not asserted: how long a request waited at most while Redis was down or coming back.
        var sorted = latencies.Order().ToArray();
        output.WriteLine($"{sorted.Length} requests, p50 {sorted[sorted.Length / 2]:F1} ms, p99 {sorted[sorted.Length * 99 / 100]:F1} ms, max {sorted[^1]:F1} ms");

        Assert.Empty(failures);
        Assert.True(served > 20, $"only {served} requests were served");
        Assert.Equal("degraded", (string?)degraded["status"]);
        Assert.Equal("HIT", cache);
        Assert.Equal("healthy", health);
    }

    [RedisFact(needsOwnServer: true)]
    public async Task Health_FollowsRedisItself_DownAndBackWithoutAnyTraffic()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var origin = await OriginAsync();
        await using var gateway = await GatewayAsync(origin, redis.ConnectionString);
        Assert.Equal("healthy", await HealthAsync(gateway));

        await redis.StopAsync();
        var down = await HealthAsync(gateway);
        await redis.StartAgainAsync();
        // Reconnecting takes the client a moment; no request goes through the proxy meanwhile.
        var back = down;
        for (var attempt = 0; attempt < 100 && back != "healthy"; attempt++)
        {
            await Task.Delay(100);
            back = await HealthAsync(gateway);
        }

        Assert.Equal("degraded", down);
        Assert.Equal("healthy", back);
        Assert.Equal(0, origin.Requests);
    }

    private static async Task<string?> HealthAsync(TestGateway gateway) =>
        (string?)JsonNode.Parse(await gateway.Admin.GetStringAsync("healthz"))!["status"];
}

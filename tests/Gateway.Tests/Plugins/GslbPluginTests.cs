using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Plugins;

/// <summary>
/// The first-party Gslb plugin over three pools of real loopback origins with YARP's active health checks on a fake
/// clock: a region's preferred pool takes its requests, a pool whose destinations all fail their probe hands its
/// region's requests to the next pool after one health interval, and gets them back once a probe passes again.
/// </summary>
public sealed class GslbPluginTests : IAsyncLifetime
{
    private const int Clusters = 3;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(7);

    private readonly Dictionary<string, TestOrigin> _origins = [];
    private readonly HashSet<string> _down = [];

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { "eu-1", "us-1", "ap-1" })
        {
            _origins[name] = await TestOrigin.StartAsync(name, respond: (context, _) =>
            {
                if (context.Request.Path == "/health")
                {
                    lock (_down)
                    {
                        context.Response.StatusCode = _down.Contains(name) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
                    }
                    return Task.CompletedTask;
                }
                return context.Response.WriteAsync(name);
            });
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var origin in _origins.Values)
        {
            await origin.DisposeAsync();
        }
    }

    private async Task<TestGateway> StartAsync(ArmingClock time, string networks = "{}")
    {
        var builder = TestGateway.Create()
            .Route("api", "/api/{**rest}", "api-us")
            .FirstPartyPlugin("Gslb")
            .Script("pool.js", "function onResponse(ctx) { if (ctx.vars.pool) { ctx.response.headers.set('x-pool', ctx.vars.pool); ctx.response.headers.set('x-region', ctx.vars.region); } }")
            .Pipeline($$"""
                { "pipeline": [
                  { "script": "scripts/pool.js" },
                  { "plugin": "Gslb", "config": {
                      "regionHeader": "x-client-region",
                      "networks": {{networks}},
                      "pools": { "eu": "api-eu", "us": "api-us", "ap": "api-ap" },
                      "order": { "eu": ["eu", "us"], "us": ["us", "eu"], "ap": ["ap", "eu", "us"], "*": ["us", "eu"] } } }
                ] }
                """)
            .Time(time)
            .Arg("--Logging:LogLevel:Yarp.ReverseProxy.Health=Information");
        foreach (var (pool, origin) in new[] { ("api-eu", "eu-1"), ("api-us", "us-1"), ("api-ap", "ap-1") })
        {
            builder.Cluster(pool, _origins[origin]).ConfigureCluster(pool, cluster =>
            {
                cluster["HealthCheck"] = new JsonObject
                {
                    ["Active"] = new JsonObject { ["Enabled"] = true, ["Interval"] = Interval.ToString(), ["Timeout"] = "00:00:05", ["Policy"] = "ConsecutiveFailures", ["Path"] = "/health" },
                };
                cluster["Metadata"] = new JsonObject { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "1" };
            });
        }
        var gateway = await builder.StartAsync();
        try
        {
            // Each cluster arms its first probe once the start's own round of probes is done; the interval is no other
            // timer's due time in the gateway.
            await time.ArmedAsync(Interval, Clusters).WaitAsync(TimeSpan.FromSeconds(30));
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    private static async Task<(HttpStatusCode Status, string Origin, string? Pool, string? Region)> GetAsync(TestGateway gateway, string? region)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
        if (region is not null)
        {
            request.Headers.Add("x-client-region", region);
        }
        using var response = await gateway.Proxy.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(),
            response.Headers.TryGetValues("x-pool", out var pool) ? pool.Single() : null,
            response.Headers.TryGetValues("x-region", out var named) ? named.Single() : null);
    }

    /// <summary>
    /// Sets the origins' probe answers, moves the clock one health interval, waits until YARP has taken in what its
    /// probes saw (it logs a destination's new state once it has set it, which is what the plugin reads) and until every
    /// cluster has armed its next probe (YARP arms it only once the last probe, over real sockets, has finished), so the
    /// next step of the clock reaches all three.
    /// </summary>
    private async Task ProbeAsync(TestGateway gateway, ArmingClock time, bool up, params (string Origin, string Cluster)[] destinations)
    {
        lock (_down)
        {
            foreach (var (origin, _) in destinations)
            {
                _ = up ? _down.Remove(origin) : _down.Add(origin);
            }
        }
        // The start's first probes may have logged the same state already: wait for one more than there is.
        var seen = Task.WhenAll(destinations.Select(destination =>
        {
            bool Matches(LogLine line) => line.Message.Contains($"destination `{destination.Origin}` on cluster `{destination.Cluster}` is set to '{(up ? "Healthy" : "Unhealthy")}'", StringComparison.Ordinal);
            return gateway.Logs.WaitForCountAsync(Matches, gateway.Logs.Lines.Count(Matches) + 1);
        }));
        var armed = time.Armed(Interval);
        time.Advance(Interval);
        await seen.WaitAsync(TimeSpan.FromSeconds(30));
        await time.ArmedAsync(Interval, armed + Clusters).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task EachRegion_GoesToItsPreferredPool_ByTheTrustedField_ThenTheNetworks_ThenAny()
    {
        await using var gateway = await StartAsync(new ArmingClock(), """{ "127.0.0.0/8": "ap" }""");
        await using var withoutNetworks = await StartAsync(new ArmingClock());

        Assert.Equal((HttpStatusCode.OK, "eu-1", "eu", "eu"), await GetAsync(gateway, "eu"));
        Assert.Equal((HttpStatusCode.OK, "us-1", "us", "us"), await GetAsync(gateway, "us"));
        Assert.Equal((HttpStatusCode.OK, "ap-1", "ap", "ap"), await GetAsync(gateway, "mars"));
        Assert.Equal((HttpStatusCode.OK, "ap-1", "ap", "ap"), await GetAsync(gateway, null));
        Assert.Equal((HttpStatusCode.OK, "us-1", "us", "*"), await GetAsync(withoutNetworks, null));
    }

    [Fact]
    public async Task APoolWithEveryDestinationUnhealthy_HandsItsRegionToTheNextPool_WithinOneHealthInterval_AndGetsItBack()
    {
        var time = new ArmingClock();
        await using var gateway = await StartAsync(time);
        Assert.Equal("eu-1", (await GetAsync(gateway, "eu")).Origin);

        await ProbeAsync(gateway, time, up: false, ("eu-1", "api-eu"));
        var failedOver = await GetAsync(gateway, "eu");
        var ap = await GetAsync(gateway, "ap");
        await ProbeAsync(gateway, time, up: true, ("eu-1", "api-eu"));
        var back = await GetAsync(gateway, "eu");
        var pipeline = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!;

        Assert.Equal((HttpStatusCode.OK, "us-1", "us", "eu"), failedOver);
        Assert.Equal((HttpStatusCode.OK, "ap-1", "ap", "ap"), ap);
        Assert.Equal((HttpStatusCode.OK, "eu-1", "eu", "eu"), back);
        var counters = pipeline["entries"]![1]!["counters"]!;
        Assert.Equal(1, (long)counters["failovers"]!);
        Assert.Equal(2, (long)counters["pool:eu"]!);
    }

    [Fact]
    public async Task WithEveryPoolOfTheOrderDown_TheRegionsFirstPoolTakesIt_ItsClusterPolicyDeciding()
    {
        var time = new ArmingClock();
        await using var gateway = await StartAsync(time);

        await ProbeAsync(gateway, time, up: false, ("eu-1", "api-eu"), ("us-1", "api-us"));
        var eu = await GetAsync(gateway, "eu");
        var ap = await GetAsync(gateway, "ap");
        var counters = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!["entries"]![1]!["counters"]!;

        // YARP's default HealthyOrPanic tries a cluster's destinations when none is healthy (the probe may be wrong):
        // here the origin still answers everything but its health path.
        Assert.Equal((HttpStatusCode.OK, "eu-1", "eu", "eu"), eu);
        Assert.Equal((HttpStatusCode.OK, "ap-1", "ap", "ap"), ap);
        Assert.Equal(1, (long)counters["unavailable"]!);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Plugins;

/// <summary>
/// The first-party Retry plugin against real listeners: a destination that refuses connections, one that answers 503,
/// one too slow for its timeout, each beside a healthy one, and a full outage.
/// </summary>
public sealed class RetryPluginTests
{
    private static Task<TestGateway> GatewayAsync((string Id, string Address)[] destinations, string config = "{}", string? activityTimeout = null) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", destinations[0].Address)
        .ConfigureCluster("backend", cluster =>
        {
            var configured = new JsonObject();
            foreach (var (id, address) in destinations)
            {
                configured[id] = new JsonObject { ["Address"] = address };
            }
            cluster["Destinations"] = configured;
            cluster["LoadBalancingPolicy"] = "RoundRobin";
            if (activityTimeout is not null)
            {
                cluster["HttpRequest"] = new JsonObject { ["ActivityTimeout"] = activityTimeout };
            }
        })
        .FirstPartyPlugin("Retry")
        .Pipeline($$"""{ "pipeline": [ { "plugin": "Retry", "config": {{config}} } ] }""")
        .StartAsync();

    private static async Task<JsonObject> CountersAsync(TestGateway gateway) =>
        (JsonObject)JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!["entries"]![0]!["counters"]!;

    private static async Task<HttpStatusCode[]> GetAsync(TestGateway gateway, int requests)
    {
        var statuses = new HttpStatusCode[requests];
        for (var i = 0; i < requests; i++)
        {
            using var response = await gateway.Proxy.GetAsync("api/x");
            statuses[i] = response.StatusCode;
        }
        return statuses;
    }

    [Fact]
    public async Task ADestinationRefusingConnections_BesideAHealthyOne_LosesNoGet_AndTheRetriesAreCounted()
    {
        await using var healthy = await TestOrigin.StartAsync("healthy");
        await using var gateway = await GatewayAsync([("dead", LoopbackPorts.RefusingUrl()), ("healthy", healthy.Url)], """{ "backoffMs": 0 }""");

        var statuses = await GetAsync(gateway, 20);
        var counters = await CountersAsync(gateway);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(20, healthy.Requests);
        // Round robin sends every other first attempt to the refusing destination.
        Assert.InRange((long)counters["retries"]!, 9, 11);
        Assert.Equal((long)counters["retries"]!, (long)counters["retries:api"]!);
    }

    [Fact]
    public async Task APost_IsNeverRetried()
    {
        await using var healthy = await TestOrigin.StartAsync("healthy");
        await using var gateway = await GatewayAsync([("dead", LoopbackPorts.RefusingUrl()), ("healthy", healthy.Url)], """{ "backoffMs": 0 }""");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            using var response = await gateway.Proxy.PostAsync("api/x", new StringContent("a body"));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.BadGateway], statuses.Order());
        Assert.Equal(1, healthy.Requests);
        Assert.Equal(0, (long)(await CountersAsync(gateway))["retries"]!);
    }

    [Fact]
    public async Task A503FromTheOrigin_IsRetriedElsewhere_WithTheBufferedBodySentAgain()
    {
        await using var unavailable = await TestOrigin.StartAsync("unavailable", respond: (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return context.Response.WriteAsync("busy, try later");
        });
        await using var healthy = await TestOrigin.StartAsync("healthy", respond: async (context, _) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync($"{context.Request.Method} {await reader.ReadToEndAsync()}");
        });
        await using var gateway = await GatewayAsync([("unavailable", unavailable.Url), ("healthy", healthy.Url)], """{ "backoffMs": 0 }""");

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Proxy.PutAsync("api/x", new StringContent($"payload-{i}"));
            answers.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(["200 PUT payload-0", "200 PUT payload-1", "200 PUT payload-2", "200 PUT payload-3"], answers);
        Assert.Equal(2, unavailable.Requests);
    }

    [Fact]
    public async Task AnUpstreamTooSlowForItsTimeout_IsRetriedElsewhere()
    {
        await using var slow = await TestOrigin.StartAsync("slow", delay: TimeSpan.FromSeconds(1));
        await using var healthy = await TestOrigin.StartAsync("healthy");
        await using var gateway = await GatewayAsync([("slow", slow.Url), ("healthy", healthy.Url)], """{ "backoffMs": 0, "on": ["timeout"] }""", activityTimeout: "00:00:00.300");

        var statuses = await GetAsync(gateway, 2);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(2, healthy.Requests);
    }

    [Fact]
    public async Task UnderAFullOutage_TheBudgetCapsTheRetries()
    {
        await using var gateway = await GatewayAsync([("dead-1", LoopbackPorts.RefusingUrl()), ("dead-2", LoopbackPorts.RefusingUrl())],
            """{ "backoffMs": 0, "attempts": 3, "budgetPercent": 20, "minRetries": 10 }""");

        var statuses = await GetAsync(gateway, 50);
        var counters = await CountersAsync(gateway);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.BadGateway, status));
        // The minimum of 10 plus a fifth of 50 requests, however many attempts each request was allowed.
        Assert.Equal(20, (long)counters["retries"]!);
        Assert.True((long)counters["refusedByBudget"]! > 0);
    }

    [Theory]
    [InlineData("""{ "attempts": 0 }""", "$.pipeline[0].config.attempts")]
    [InlineData("""{ "on": ["connect", "404"] }""", "$.pipeline[0].config.on[1]")]
    [InlineData("""{ "budgetPercent": 150 }""", "$.pipeline[0].config.budgetPercent")]
    public async Task BadConfig_IsRejectedNamingTheField(string config, string path)
    {
        await using var healthy = await TestOrigin.StartAsync("healthy");
        await using var gateway = await GatewayAsync([("healthy", healthy.Url)]);
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "Retry", "config": {{config}} } ] }""");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal(path, (string?)error["path"]);
    }
}

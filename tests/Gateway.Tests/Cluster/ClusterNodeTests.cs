using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Cluster;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Tests.Cluster;

/// <summary>
/// One node of a cluster, in this process, on the shared Redis (each test its own secret, so its own cluster): what it
/// does with messages it did not get from a node of its cluster, how it catches up on an order it missed, and the
/// settings and calls that do not make a cluster.
/// </summary>
public sealed class ClusterNodeTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("origin");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private TestGatewayBuilder Gateway() => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .Pipeline("""{ "pipeline": [] }""");

    private Task<TestGateway> NodeAsync(string secret) => Gateway()
        .Args([
            $"--ConnectionStrings:Redis={Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)}",
            $"--Gateway:Cluster:Secret={secret}",
            "--Gateway:Cluster:NodeId=solo",
            "--Gateway:Cluster:HeartbeatSeconds=0.2",
        ])
        .StartAsync();

    [RedisFact]
    public async Task OrdersNotSignedWithTheSecret_AreIgnored_ASignedOneMissedOnTheChannel_IsAppliedOnTheNextHeartbeat_AndNotTwice()
    {
        var secret = "node-test-" + Guid.NewGuid().ToString("N");
        await using var gateway = await NodeAsync(secret);
        using var redis = await ConnectionMultiplexer.ConnectAsync(Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)!);
        var keys = $"gateway:cluster:{{{new ClusterSigner(secret).ClusterId}}}:";
        await gateway.Logs.WaitForAsync(line => line.EventId == EventIds.ClusterJoined);
        var generation = await GenerationAsync(gateway);

        // Signed with another secret, and not signed at all: on the channel, and as the newest order in Redis.
        var forged = new ClusterSigner("another-secret-0123456789").Sign(ReloadOrder.Kind, Order(5));
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys + "orders"), forged);
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys + "orders"), Order(6));
        await gateway.Logs.WaitForCountAsync(line => line.EventId == EventIds.ClusterMessageUnsigned, 2);
        await redis.GetDatabase().HashSetAsync(keys + "order", [new("sequence", 7), new("message", forged)]);
        await gateway.Logs.WaitForCountAsync(line => line.EventId == EventIds.ClusterMessageUnsigned, 3);
        Assert.Equal(generation, await GenerationAsync(gateway));
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.EventId == EventIds.ClusterReloadApplying);

        // Signed, but only written to Redis (its message lost): the next heartbeat finds it.
        var order = new ClusterSigner(secret).Sign(ReloadOrder.Kind, Order(10));
        await redis.GetDatabase().HashSetAsync(keys + "order", [new("sequence", 10), new("message", order)]);
        await gateway.Logs.WaitForAsync(line => line.EventId == EventIds.ClusterReloadApplying && line.Message.Contains("reload 10 from node elsewhere"));

        // Replayed on the channel: already applied, so ignored; the next order issued is numbered after it.
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys + "orders"), order);
        using var reload = await gateway.Admin.PostAsync("admin/reload?scope=cluster", null);
        var answer = JsonNode.Parse(await reload.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
        Assert.Equal(generation + 2, (int)answer["nodes"]![0]!["generation"]!);
        Assert.Equal(generation + 2, await GenerationAsync(gateway));
        var applied = gateway.Logs.Lines.Where(line => line.EventId == EventIds.ClusterReloadApplying).Select(line => line.Message).ToArray();
        Assert.Equal(2, applied.Length);
        Assert.Contains("reload 11 from node solo", applied[1]);
    }

    [RedisFact]
    public async Task ANodeStopping_LeavesTheListAtOnce_AndHealthNamesIt()
    {
        var secret = "node-test-" + Guid.NewGuid().ToString("N");
        await using var watch = await ClusterWatch.StartAsync(Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)!, secret);
        await using var first = await NodeAsync(secret);
        await watch.StateOfAsync(node => node == "solo");
        var health = JsonNode.Parse(await first.Admin.GetStringAsync("healthz"))!;
        Assert.Equal("solo", (string?)health["cluster"]!["node"]);
        Assert.Equal("ok", (string?)health["cluster"]!["status"]);

        await using (var second = await Gateway()
            .Args([
                $"--ConnectionStrings:Redis={Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)}",
                $"--Gateway:Cluster:Secret={secret}",
                // Heartbeats far apart: the node can only leave the list by saying so.
                "--Gateway:Cluster:HeartbeatSeconds=600",
            ])
            .StartAsync())
        {
            await watch.StateOfAsync(node => node.StartsWith(Environment.MachineName + ":", StringComparison.Ordinal));
            var both = await ListedAsync(first);
            Assert.Equal(2, both.Length);
            Assert.Contains(both, node => node.StartsWith(Environment.MachineName + ":", StringComparison.Ordinal));
        }
        Assert.Equal(["solo"], await ListedAsync(first));
    }

    [Fact]
    public async Task ANodeNotInACluster_SaysSo_AndAnUnknownScopeIsRefused()
    {
        await using var gateway = await Gateway().StartAsync();

        using var cluster = await gateway.Admin.GetAsync("admin/cluster");
        using var reload = await gateway.Admin.PostAsync("admin/reload?scope=cluster", null);
        using var unknown = await gateway.Admin.PostAsync("admin/reload?scope=everything", null);

        Assert.Equal(HttpStatusCode.NotFound, cluster.StatusCode);
        Assert.Contains("Gateway:Cluster:Secret", await cluster.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, reload.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Null(JsonNode.Parse(await gateway.Admin.GetStringAsync("healthz"))!["cluster"]);
    }

    [Theory]
    [InlineData("--Gateway:Cluster:Secret=short", "at least 16 characters")]
    [InlineData("--Gateway:Cluster:Secret=long-enough-secret-but-no-redis", "ConnectionStrings:Redis is not")]
    public async Task ClusterSettingsThatCannotWork_FailTheStart(string setting, string reason)
    {
        var refused = await Assert.ThrowsAsync<GatewayStartException>(() => Gateway().Arg(setting).StartAsync());

        Assert.Contains(reason, refused.Message);
    }

    private static string Order(long sequence) =>
        JsonSerializer.Serialize(new ReloadOrder(sequence, "elsewhere", DateTimeOffset.UtcNow), ClusterJson.Options);

    private static async Task<int> GenerationAsync(TestGateway gateway) =>
        (int)JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!["generation"]!;

    private static async Task<string[]> ListedAsync(TestGateway gateway) =>
        [.. JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/cluster"))!["nodes"]!.AsArray().Select(node => (string)node!["node"]!)];
}

using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>
/// Three gateway processes deployed alike (one folder) and one real redis-server: a reload given to one node reaches
/// all three, a node with a broken file rejects it and serves on while the others apply, the drift shows, a killed node
/// leaves the list, and Redis going away costs no request and comes back by itself.
/// </summary>
public sealed class ThreeNodeClusterTests(ITestOutputHelper output)
{
    private const string Secret = "three-node-test-secret-0123456789";
    private const string Pipeline = """{ "pipeline": [ { "script": "scripts/tag.js" } ] }""";
    // The lines a node logs when Redis stops answering its heartbeat, and when it answers again (a heartbeat that wrote its state).
    private const string Unavailable = "Redis does not answer the cluster's calls";
    private const string Available = "Redis answers the cluster's calls again";

    private static string Tag(int version) => $$"""
        function onResponse(ctx) { ctx.response.headers.set('x-version', '{{version}}'); }
        """;

    [RedisFact(needsOwnServer: true)]
    public async Task ReloadWithClusterScope_ReachesEveryNode_RejectingNodeServesOn_DeadNodeLeaves_RedisOutageIsRiddenOut()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var origin = await TestOrigin.StartAsync("origin");
        await using var watch = await ClusterWatch.StartAsync(redis.ConnectionString, Secret);
        var nodes = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", origin)
            .Script("tag.js", Tag(0))
            .Pipeline(Pipeline)
            // Node c reads a pipeline file of its own, the same until the test breaks it.
            .File("plugins-c.json", Pipeline)
            .Args([$"--ConnectionStrings:Redis={redis.ConnectionString}", $"--Gateway:Cluster:Secret={Secret}", "--Gateway:Cluster:HeartbeatSeconds=0.2"])
            .StartProcessesAsync(["--Gateway:Cluster:NodeId=a"], ["--Gateway:Cluster:NodeId=b"], ["--Gateway:Cluster:NodeId=c", "--Gateway:PipelineFile=plugins-c.json"]);
        try
        {
            var (a, b, c) = (nodes[0], nodes[1], nodes[2]);
            // Each node publishes its state on its first heartbeat, just after writing it.
            await Task.WhenAll(watch.StateOfAsync(node => node == "a"), watch.StateOfAsync(node => node == "b"), watch.StateOfAsync(node => node == "c"));
            var listed = await ClusterAsync(a);
            Assert.Equal(["a", "b", "c"], Names(listed));
            Assert.Single(listed["nodes"]!.AsArray().Select(node => (string?)node!["pipelineHash"]).Distinct());
            Assert.All(listed["nodes"]!.AsArray(), node => Assert.False((bool)node!["drift"]!));

            // Twenty reloads through node a: when its answer comes, every node serves the new pipeline.
            var took = new List<TimeSpan>();
            string? previousHash = null;
            for (var version = 1; version <= 20; version++)
            {
                File.WriteAllText(Path.Combine(a.Directory, "scripts", "tag.js"), Tag(version));
                var clock = Stopwatch.StartNew();
                using var reload = await a.Admin.PostAsync("admin/reload?scope=cluster", null);
                took.Add(clock.Elapsed);
                var answer = JsonNode.Parse(await reload.Content.ReadAsStringAsync())!;
                Assert.True(reload.StatusCode == HttpStatusCode.OK, answer.ToJsonString());
                var answered = answer["nodes"]!.AsArray();
                Assert.Equal(["a", "b", "c"], answered.Select(node => (string)node!["node"]!));
                Assert.All(answered, node => Assert.Equal("applied", (string?)node!["status"]));
                var hash = Assert.Single(answered.Select(node => (string?)node!["pipelineHash"]).Distinct());
                Assert.NotEqual(previousHash, hash);
                previousHash = hash;
                foreach (var node in nodes)
                {
                    Assert.Equal(version.ToString(), await VersionAsync(node));
                }
            }
            var sorted = took.Order().ToArray();
            output.WriteLine(string.Join(" ", took.Select(t => t.TotalMilliseconds.ToString("0"))));
            output.WriteLine($"cluster reload over 3 nodes, 20 times: p50 {sorted[sorted.Length / 2].TotalMilliseconds:0.0} ms, max {sorted[^1].TotalMilliseconds:0.0} ms");

            // Node c's file breaks: it rejects and serves on; a and b apply.
            File.WriteAllText(Path.Combine(a.Directory, "plugins-c.json"), """{ "pipeline": [ """);
            File.WriteAllText(Path.Combine(a.Directory, "scripts", "tag.js"), Tag(21));
            using (var partial = await a.Admin.PostAsync("admin/reload?scope=cluster", null))
            {
                var answer = JsonNode.Parse(await partial.Content.ReadAsStringAsync())!;
                Assert.Equal(HttpStatusCode.MultiStatus, partial.StatusCode);
                var byNode = answer["nodes"]!.AsArray().ToDictionary(node => (string)node!["node"]!);
                Assert.Equal("applied", (string?)byNode["a"]!["status"]);
                Assert.Equal("applied", (string?)byNode["b"]!["status"]);
                Assert.Equal("rejected", (string?)byNode["c"]!["status"]);
                Assert.Contains("plugins-c.json", byNode["c"]!["errors"]!.ToJsonString());
                Assert.Equal(previousHash, (string?)byNode["c"]!["pipelineHash"]);
            }
            Assert.Equal("21", await VersionAsync(a));
            Assert.Equal("21", await VersionAsync(b));
            Assert.Equal("20", await VersionAsync(c));
            var drift = (await ClusterAsync(b))["nodes"]!.AsArray().ToDictionary(node => (string)node!["node"]!);
            Assert.False((bool)drift["a"]!["drift"]!);
            Assert.False((bool)drift["b"]!["drift"]!);
            Assert.True((bool)drift["c"]!["drift"]!);
            Assert.Equal("rejected", (string?)drift["c"]!["lastReload"]!["outcome"]);

            // Node c dies: it leaves the list once its state expires (three heartbeats).
            var expired = await watch.ExpiryOfAsync("c");
            var killed = Stopwatch.StartNew();
            c.Kill();
            await expired;
            output.WriteLine($"a killed node left the list after {killed.Elapsed.TotalSeconds:0.0} s (time to live 0.6 s)");
            Assert.Equal(["a", "b"], Names(await ClusterAsync(a)));

            // Redis goes away: the nodes serve on, say degraded, and refuse a cluster reload rather than half do it.
            await redis.StopAsync();
            Assert.Equal("21", await VersionAsync(a));
            Assert.Equal("21", await VersionAsync(b));
            await Task.WhenAll(a.OutputAsync(Unavailable), b.OutputAsync(Unavailable));
            var degraded = await HealthAsync(a);
            Assert.Equal("failing", (string?)degraded["cluster"]!["status"]);
            Assert.Equal("degraded", (string?)degraded["status"]);
            using (var refused = await a.Admin.PostAsync("admin/reload?scope=cluster", null))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            }
            Assert.Equal("21", await VersionAsync(b));

            // Redis comes back, empty: the nodes list themselves again, and reload as one.
            await redis.StartAgainAsync();
            await Task.WhenAll(a.OutputAsync(Available), b.OutputAsync(Available));
            Assert.Equal("healthy", (string?)(await HealthAsync(a))["status"]);
            Assert.Equal(["a", "b"], Names(await ClusterAsync(a)));
            File.WriteAllText(Path.Combine(a.Directory, "scripts", "tag.js"), Tag(22));
            using (var again = await b.Admin.PostAsync("admin/reload?scope=cluster", null))
            {
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            }
            Assert.Equal("22", await VersionAsync(a));
            Assert.Equal("22", await VersionAsync(b));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static IEnumerable<string> Names(JsonNode cluster) => cluster["nodes"]!.AsArray().Select(node => (string)node!["node"]!);

    private static async Task<JsonNode> ClusterAsync(GatewayProcess node) => JsonNode.Parse(await node.Admin.GetStringAsync("admin/cluster"))!;

    private static async Task<JsonNode> HealthAsync(GatewayProcess node) => JsonNode.Parse(await node.Admin.GetStringAsync("healthz"))!;

    private static async Task<string?> VersionAsync(GatewayProcess node)
    {
        using var response = await node.Proxy.GetAsync("api/x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.TryGetValues("x-version", out var values) ? values.Single() : null;
    }
}

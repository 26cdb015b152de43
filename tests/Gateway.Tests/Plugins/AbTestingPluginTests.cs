using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Plugins;

/// <summary>The first-party AbTesting plugin in front of real origins: v1 and v2 groups of one cluster, and a canary cluster.</summary>
public sealed class AbTestingPluginTests : IAsyncLifetime
{
    private TestOrigin _v1 = null!;
    private TestOrigin _v2 = null!;
    private TestOrigin _canary = null!;

    public async Task InitializeAsync()
    {
        _v1 = await TestOrigin.StartAsync("v1");
        _v2 = await TestOrigin.StartAsync("v2");
        _canary = await TestOrigin.StartAsync("canary");
    }

    public async Task DisposeAsync()
    {
        await _v1.DisposeAsync();
        await _v2.DisposeAsync();
        await _canary.DisposeAsync();
    }

    private Task<TestGateway> StartAsync(string config) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", (_v1, "v1"), (_v2, "v2"))
        .Cluster("canary", _canary)
        .FirstPartyPlugin("AbTesting")
        .Pipeline(Pipeline(config))
        .StartAsync();

    private static string Pipeline(string config) => $$"""{ "pipeline": [ { "plugin": "AbTesting", "config": {{config}} } ] }""";

    private static string ByUserHeader(int a, int b, int c) => $$"""
        { "name": "checkout", "sticky": { "header": "x-user" }, "override": { "header": "x-force-variant" },
          "variants": [ { "name": "a", "weight": {{a}}, "group": { "group": "v1" } },
                        { "name": "b", "weight": {{b}}, "group": { "group": "v2" } },
                        { "name": "c", "weight": {{c}}, "cluster": "canary" } ] }
        """;

    private static async Task<Dictionary<string, string>> AssignAsync(TestGateway gateway, int users)
    {
        var variants = new ConcurrentDictionary<string, string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (user, _) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
            request.Headers.Add("x-user", $"user-{user}");
            using var response = await gateway.Proxy.SendAsync(request);
            var variant = response.Headers.GetValues("x-variant").Single();
            var echo = await OriginEcho.ReadAsync(response);
            Assert.Equal(variant switch { "a" => "v1", "b" => "v2", _ => "canary" }, echo.Origin);
            Assert.Equal(variant, echo.Headers["x-variant"]);
            variants[$"user-{user}"] = variant;
        });
        return new Dictionary<string, string>(variants);
    }

    [Fact]
    public async Task TenThousandClients_SplitWithinTwoPointsOfTheWeights_EachOnItsVariantsDestinations()
    {
        await using var gateway = await StartAsync(ByUserHeader(70, 20, 10));

        var variants = await AssignAsync(gateway, 10_000);

        var shares = variants.Values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count() / 100.0);
        Assert.InRange(shares["a"], 68, 72);
        Assert.InRange(shares["b"], 18, 22);
        Assert.InRange(shares["c"], 8, 12);
        var counters = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!["entries"]![0]!["counters"]!;
        Assert.All(shares.Keys, variant => Assert.Equal(variants.Values.Count(v => v == variant), (long)counters["variant:" + variant]!));
    }

    [Fact]
    public async Task ChangingOneWeight_MovesOnlyUsersToThatVariant_AndTheSameUserAlwaysGetsTheSameVariant()
    {
        await using var gateway = await StartAsync(ByUserHeader(50, 30, 20));
        var before = await AssignAsync(gateway, 2_000);
        var again = await AssignAsync(gateway, 2_000);

        gateway.WritePipeline(Pipeline(ByUserHeader(50, 30, 40)));
        await gateway.ReloadOkAsync();
        var after = await AssignAsync(gateway, 2_000);

        Assert.Equal(before, again);
        var moved = before.Where(pair => after[pair.Key] != pair.Value).ToList();
        Assert.All(moved, pair => Assert.Equal("c", after[pair.Key]));
        // c goes from 20 % to 40/120 = 33 %: about 13 % of users must move, and only those.
        Assert.InRange(moved.Count / 20.0, 9, 18);
    }

    [Fact]
    public async Task Cookie_AssignsOnFirstRequest_KeepsTheVariantAfter_AndAnOverrideWinsWithoutACookie()
    {
        await using var gateway = await StartAsync("""
            { "name": "home", "override": { "query": "variant" }, "sticky": { "cookie": "ab_home", "maxAgeSeconds": 3600 },
              "variants": [ { "name": "a", "weight": 1, "group": { "group": "v1" } }, { "name": "b", "weight": 1, "group": { "group": "v2" } } ] }
            """);

        using var first = await gateway.Proxy.GetAsync("api/x");
        var variant = first.Headers.GetValues("x-variant").Single();
        var cookie = first.Headers.GetValues("Set-Cookie").Single();
        Assert.Equal($"ab_home={variant}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax", cookie);
        for (var i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
            request.Headers.Add("Cookie", $"ab_home={variant}");
            using var next = await gateway.Proxy.SendAsync(request);
            Assert.Equal(variant, next.Headers.GetValues("x-variant").Single());
            Assert.False(next.Headers.Contains("Set-Cookie"));
        }
        var other = variant == "a" ? "b" : "a";
        using var forced = await gateway.Proxy.GetAsync($"api/x?variant={other}");
        Assert.Equal(other, forced.Headers.GetValues("x-variant").Single());
        Assert.Equal(other == "a" ? "v1" : "v2", (await OriginEcho.ReadAsync(forced)).Origin);
        Assert.False(forced.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("""{ "name": "x", "variants": [ { "name": "a", "weight": 1, "group": { "g": "1" } } ] }""", "$.pipeline[0].config.variants", "at least two variants")]
    [InlineData("""{ "name": "x", "variants": [ { "name": "a", "weight": 0, "group": { "g": "1" } }, { "name": "b", "weight": 1, "cluster": "c" } ] }""", "$.pipeline[0].config.variants[0].weight", "positive")]
    [InlineData("""{ "name": "x", "variants": [ { "name": "a", "weight": 1 }, { "name": "b", "weight": 1, "cluster": "c" } ] }""", "$.pipeline[0].config.variants[0]", "exactly one of")]
    [InlineData("""{ "name": "x", "variants": [ { "name": "a", "weight": 1, "cluster": "c" }, { "name": "a", "weight": 1, "cluster": "c" } ] }""", "$.pipeline[0].config.variants[1].name", "used twice")]
    [InlineData("""{ "name": "x", "sticky": { "cookie": "c", "header": "h" }, "variants": [ { "name": "a", "weight": 1, "cluster": "c" }, { "name": "b", "weight": 1, "cluster": "c" } ] }""", "$.pipeline[0].config.sticky", "one of cookie, header or var")]
    public async Task Config_Invalid_RejectsTheReloadNamingTheField(string config, string path, string message)
    {
        await using var gateway = await StartAsync("""{ "name": "ok", "variants": [ { "name": "a", "weight": 1, "cluster": "canary" }, { "name": "b", "weight": 1, "cluster": "canary" } ] }""");
        gateway.WritePipeline(Pipeline(config));

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal(path, (string?)error["path"]);
        Assert.Contains(message, (string?)error["message"]);
    }
}

using Gateway.Plugins.Balancing;

namespace Gateway.Plugins.Tests.Balancing;

public sealed class ConsistentHashTests
{
    private static UpstreamDestination[] Destinations(params string[] ids) => ids.Select(id => TestContext.Destination(id)).ToArray();

    private static Dictionary<string, string> Assign(ConsistentHash policy, UpstreamDestination[] candidates, int keys)
    {
        var assigned = new Dictionary<string, string>();
        for (var i = 0; i < keys; i++)
        {
            var context = new TestContext();
            context.HttpContext.Request.Headers["x-user"] = $"user-{i}";
            assigned[$"user-{i}"] = candidates[policy.Pick(context, candidates)].Id;
        }
        return assigned;
    }

    [Fact]
    public void SameKey_SameDestination_AndKeysSpreadOverAll()
    {
        var policy = new ConsistentHash(new HashOnOptions { Header = "x-user" }, virtualNodes: 160);
        var candidates = Destinations("d1", "d2", "d3", "d4");

        var first = Assign(policy, candidates, 4_000);
        var second = Assign(new ConsistentHash(new HashOnOptions { Header = "x-user" }, virtualNodes: 160), candidates, 4_000);

        Assert.Equal(first, second);
        // 160 points each keep every share within about a fifth of the fair 1,000.
        Assert.All(first.Values.GroupBy(id => id), group => Assert.InRange(group.Count(), 750, 1_250));
    }

    [Fact]
    public void RemovingADestination_MovesOnlyItsKeys_AndAddingItBack_MovesThemBack()
    {
        var policy = new ConsistentHash(new HashOnOptions { Header = "x-user" }, virtualNodes: 160);
        var four = Assign(policy, Destinations("d1", "d2", "d3", "d4"), 2_000);
        var three = Assign(policy, Destinations("d1", "d2", "d3"), 2_000);
        var again = Assign(policy, Destinations("d4", "d3", "d2", "d1"), 2_000);

        Assert.All(four.Where(pair => pair.Value != "d4"), pair => Assert.Equal(pair.Value, three[pair.Key]));
        Assert.Equal(four, again);
    }

    [Fact]
    public void NoKey_PicksSomeCandidate()
    {
        var policy = new ConsistentHash(new HashOnOptions { Header = "x-user" }, virtualNodes: 16);
        var candidates = Destinations("d1", "d2");

        Assert.InRange(policy.Pick(new TestContext(), candidates), 0, 1);
    }
}

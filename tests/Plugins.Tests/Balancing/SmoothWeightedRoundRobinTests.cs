using Gateway.Plugins.Balancing;

namespace Gateway.Plugins.Tests.Balancing;

public sealed class SmoothWeightedRoundRobinTests
{
    private static string Picks(SmoothWeightedRoundRobin policy, UpstreamDestination[] candidates, int count) =>
        string.Concat(Enumerable.Range(0, count).Select(_ => candidates[policy.Pick(new TestContext(), candidates)].Id));

    [Fact]
    public void Weights5To1To1_GiveNginxsInterleavedCycle_EveryCycle()
    {
        var policy = new SmoothWeightedRoundRobin("weight");
        UpstreamDestination[] candidates = [TestContext.Destination("a", 5), TestContext.Destination("b", 1), TestContext.Destination("c", 1)];

        // nginx's smooth weighted round robin: the heavy destination's turns are spread out, never five in a row.
        Assert.Equal("aabacaa" + "aabacaa" + "aabacaa", Picks(policy, candidates, 21));
    }

    [Fact]
    public void MissingOrInvalidWeight_CountsAsOne()
    {
        var policy = new SmoothWeightedRoundRobin("weight");
        UpstreamDestination[] candidates =
        [
            TestContext.Destination("a"),
            new("b", "http://b.test/", new Dictionary<string, string> { ["weight"] = "heavy" }),
            new("c", "http://c.test/", new Dictionary<string, string> { ["weight"] = "0" }),
        ];

        Assert.Equal("abcabc", Picks(policy, candidates, 6));
    }

    [Fact]
    public void ANewDescriptionOfADestination_ReadsItsWeightAgain_AndKeepsItsScore()
    {
        var policy = new SmoothWeightedRoundRobin("weight");
        var before = Picks(policy, [TestContext.Destination("a", 1), TestContext.Destination("b", 1)], 2);
        var after = Picks(policy, [TestContext.Destination("a", 3), TestContext.Destination("b", 1)], 8);

        Assert.Equal("ab", before);
        Assert.Equal(6, after.Count(c => c == 'a'));
    }
}

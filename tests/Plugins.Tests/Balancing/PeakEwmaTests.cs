using Gateway.Plugins.Balancing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Plugins.Tests.Balancing;

/// <summary>Peak EWMA on a clock the test moves: latencies, peaks and decay are exact.</summary>
public sealed class PeakEwmaTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly UpstreamDestination[] _candidates = [TestContext.Destination("fast"), TestContext.Destination("slow")];

    // One request to a destination (its only candidate) taking the given time on the fake clock.
    private void Observe(PeakEwma policy, string id, TimeSpan latency)
    {
        policy.Pick(new TestContext(), [TestContext.Destination(id)]);
        var start = _clock.GetTimestamp();
        _clock.Advance(latency);
        policy.Completed(id, start);
    }

    private int CountSlow(PeakEwma policy, int picks)
    {
        var slow = 0;
        for (var i = 0; i < picks; i++)
        {
            var picked = _candidates[policy.Pick(new TestContext(), _candidates)].Id;
            slow += picked == "slow" ? 1 : 0;
            // Answered at once: nothing stays in flight, and no time passes.
            policy.Completed(picked, _clock.GetTimestamp());
        }
        return slow;
    }

    [Fact]
    public void TheCheaperOfTwo_Wins_EveryTime()
    {
        var policy = new PeakEwma(TimeSpan.FromSeconds(10), _clock);
        Observe(policy, "fast", TimeSpan.FromMilliseconds(5));
        Observe(policy, "slow", TimeSpan.FromMilliseconds(100));

        // Two candidates are always both drawn; answers that take no time pull the fast one's average down further.
        Assert.Equal(0, CountSlow(policy, 100));
    }

    [Fact]
    public void APeakCountsAtOnce_AndDecaysBackOverTheDecayPeriod()
    {
        var policy = new PeakEwma(TimeSpan.FromSeconds(1), _clock);
        Observe(policy, "fast", TimeSpan.FromMilliseconds(5));
        Observe(policy, "slow", TimeSpan.FromMilliseconds(20));
        Observe(policy, "fast", TimeSpan.FromMilliseconds(500));

        var whilePeaking = CountSlow(policy, 10);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Observe(policy, "slow", TimeSpan.FromMilliseconds(20));
        var afterDecay = CountSlow(policy, 10);

        Assert.Equal(10, whilePeaking);
        Assert.Equal(0, afterDecay);
    }

    [Fact]
    public void AnUnmeasuredDestination_IsTried_ButNotPiledOntoWhileItsFirstAnswerIsOutstanding()
    {
        var policy = new PeakEwma(TimeSpan.FromSeconds(10), _clock);
        Observe(policy, "fast", TimeSpan.FromMilliseconds(5));

        var picks = Enumerable.Range(0, 5).Select(_ => _candidates[policy.Pick(new TestContext(), _candidates)].Id).ToArray();

        Assert.Equal("slow", picks[0]);
        Assert.All(picks[1..], id => Assert.Equal("fast", id));
    }
}

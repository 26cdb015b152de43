using System.Collections.Concurrent;

namespace Gateway.Plugins.Balancing;

/// <summary>
/// Latency-aware balancing (Finagle's peak EWMA): each destination's cost is its moving average latency, which jumps
/// up at once to a slower observation and decays back over <c>decay</c>, times its requests in flight plus one. Two
/// candidates are drawn at random and the cheaper one wins (power of two choices), so a slow destination gets less
/// traffic without a herd moving all at once to the fastest.
/// </summary>
internal sealed class PeakEwma(TimeSpan decay, TimeProvider time) : IBalancingPolicy
{
    private readonly ConcurrentDictionary<string, Stats> _stats = new(StringComparer.OrdinalIgnoreCase);
    private readonly double _decayTicks = decay.TotalSeconds * time.TimestampFrequency;

    public bool TracksCompletion => true;

    public int Pick(PluginContext context, IReadOnlyList<UpstreamDestination> candidates)
    {
        if (candidates.Count == 1)
        {
            Get(candidates[0].Id).Start();
            return 0;
        }
        var first = Random.Shared.Next(candidates.Count);
        var second = Random.Shared.Next(candidates.Count - 1);
        if (second >= first)
        {
            second++;
        }
        var now = time.GetTimestamp();
        var (firstStats, secondStats) = (Get(candidates[first].Id), Get(candidates[second].Id));
        if (firstStats.Cost(now, _decayTicks) <= secondStats.Cost(now, _decayTicks))
        {
            firstStats.Start();
            return first;
        }
        secondStats.Start();
        return second;
    }

    public void Completed(string destinationId, long startTimestamp)
    {
        var now = time.GetTimestamp();
        Get(destinationId).Finish(now - startTimestamp, now, _decayTicks);
    }

    private Stats Get(string id) => _stats.GetOrAdd(id, static (_, now) => new Stats(now), time.GetTimestamp());

    private sealed class Stats(long created)
    {
        // Finagle's: a destination with a request in flight and no answer yet is avoided rather than piled onto.
        private const double UnmeasuredPenalty = long.MaxValue >> 16;

        private readonly Lock _gate = new();
        private double _ewma;
        private long _stamp = created;
        private int _pending;

        public void Start() => Interlocked.Increment(ref _pending);

        // Reading decays the average toward zero as time passes (Finagle's "observe 0 on read"): a destination that
        // had one slow answer and then lost every comparison would otherwise keep that peak for good and never be
        // tried again. An unmeasured one costs nothing, so it gets tried.
        public double Cost(long now, double decayTicks)
        {
            var pending = Volatile.Read(ref _pending);
            lock (_gate)
            {
                Observe(0, now, decayTicks);
                return _ewma == 0 && pending > 0 ? UnmeasuredPenalty + pending : _ewma * (pending + 1);
            }
        }

        public void Finish(long elapsed, long now, double decayTicks)
        {
            Interlocked.Decrement(ref _pending);
            lock (_gate)
            {
                Observe(elapsed, now, decayTicks);
            }
        }

        // Peak: a slower observation counts in full at once; faster ones pull the average down over the decay.
        private void Observe(double elapsed, long now, double decayTicks)
        {
            var weight = Math.Exp(-Math.Max(now - _stamp, 0) / decayTicks);
            _ewma = elapsed > _ewma ? elapsed : _ewma * weight + elapsed * (1 - weight);
            _stamp = now;
        }
    }
}

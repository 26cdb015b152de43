namespace Gateway.Plugins.Balancing;

/// <summary>
/// nginx's smooth weighted round robin: each pick adds every candidate's weight to its running score, takes the
/// highest, and subtracts the total from it. Over each cycle of (sum of weights) picks every destination gets exactly
/// its weight, interleaved rather than in bursts. Candidates that leave (unhealthy) are skipped; their score is kept.
/// </summary>
internal sealed class SmoothWeightedRoundRobin(string weightKey) : IBalancingPolicy
{
    private readonly Dictionary<string, long> _scores = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();

    public int Pick(PluginContext context, IReadOnlyList<UpstreamDestination> candidates)
    {
        lock (_gate)
        {
            long total = 0;
            var best = 0;
            var bestScore = long.MinValue;
            for (var i = 0; i < candidates.Count; i++)
            {
                var weight = Weight(candidates[i]);
                total += weight;
                ref var score = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_scores, candidates[i].Id, out _);
                score += weight;
                if (score > bestScore)
                {
                    (best, bestScore) = (i, score);
                }
            }
            _scores[candidates[best].Id] -= total;
            return best;
        }
    }

    private int Weight(UpstreamDestination destination) =>
        destination.Metadata.TryGetValue(weightKey, out var text) && int.TryParse(text, out var weight) && weight > 0 ? weight : 1;
}

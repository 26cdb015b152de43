using System.Runtime.InteropServices;

namespace Gateway.Plugins.Balancing;

/// <summary>
/// nginx's smooth weighted round robin: each pick adds every candidate's weight to its running score, takes the
/// highest, and subtracts the total from it. Over each cycle of (sum of weights) picks every destination gets exactly
/// its weight, interleaved rather than in bursts. Candidates that leave (unhealthy) are skipped; their score is kept.
/// </summary>
internal sealed class SmoothWeightedRoundRobin(string weightKey) : IBalancingPolicy
{
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();

    public int Pick(PluginContext context, IReadOnlyList<UpstreamDestination> candidates)
    {
        lock (_gate)
        {
            long total = 0;
            var best = 0;
            Slot? bestSlot = null;
            for (var i = 0; i < candidates.Count; i++)
            {
                var slot = SlotFor(candidates[i]);
                total += slot.Weight;
                slot.Score += slot.Weight;
                if (bestSlot is null || slot.Score > bestSlot.Score)
                {
                    (best, bestSlot) = (i, slot);
                }
            }
            bestSlot!.Score -= total;
            return best;
        }
    }

    // The weight is parsed once per description of a destination, not per pick: the gateway describes a destination
    // anew only when its configuration changes, and the score carries over to the new description.
    private Slot SlotFor(UpstreamDestination destination)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_slots, destination.Id, out _);
        slot ??= new Slot();
        if (!ReferenceEquals(slot.Source, destination))
        {
            slot.Source = destination;
            slot.Weight = destination.Metadata.TryGetValue(weightKey, out var text) && int.TryParse(text, out var weight) && weight > 0 ? weight : 1;
        }
        return slot;
    }

    private sealed class Slot
    {
        public UpstreamDestination? Source;
        public long Weight;
        public long Score;
    }
}

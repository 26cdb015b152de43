using System.IO.Hashing;
using System.Text;

namespace Gateway.Plugins.AbTesting;

/// <summary>
/// Weighted rendezvous hashing: every variant scores a key as <c>-ln(u) / weight</c> with <c>u</c> a uniform hash of
/// (experiment, variant, key), and the lowest score wins. The split follows the weights, every node computes the same
/// answer with no shared state, and changing one variant's weight moves only users to or from that variant.
/// </summary>
internal sealed class VariantPicker(string experiment, IReadOnlyList<VariantOptions> variants)
{
    private readonly ulong[] _salts = variants.Select(v => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(experiment + "\0" + v.Name))).ToArray();
    private readonly double[] _weights = variants.Select(v => v.Weight).ToArray();

    public int Pick(ReadOnlySpan<char> key)
    {
        var best = 0;
        var bestScore = double.MaxValue;
        for (var i = 0; i < _weights.Length; i++)
        {
            var hash = XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(key), (long)_salts[i]);
            // 53 high bits to a double in (0, 1): never 0, so the logarithm is finite.
            var uniform = ((hash >> 11) + 0.5) / (1UL << 53);
            var score = -Math.Log(uniform) / _weights[i];
            if (score < bestScore)
            {
                (best, bestScore) = (i, score);
            }
        }
        return best;
    }

    /// <summary>A weighted random pick, for a client with nothing to hash yet (the first request of a cookie split).</summary>
    public int PickRandom() => Pick(Guid.NewGuid().ToString("N"));
}

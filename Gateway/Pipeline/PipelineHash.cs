using System.Security.Cryptography;
using System.Text;

namespace Gateway.Pipeline;

/// <summary>
/// What a node serves, as one <c>sha256:</c>: the <c>ReverseProxy</c> section as the reload read it, the pipeline
/// file's bytes, and the hash of each built entry's plugin assemblies or script. Nodes that serve the same files and
/// builds have the same hash, whatever order they loaded them in or however many reloads they took to get there.
/// </summary>
internal static class PipelineHash
{
    /// <summary>The part of the hash the configuration files make: known before anything is built.</summary>
    public static string OfSources(IConfiguration proxySection, ReadOnlySpan<byte> pipelineFile)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, value) in proxySection.AsEnumerable(makePathsRelative: true)
            .Where(pair => pair.Value is not null)
            .OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            Append(hash, key);
            Append(hash, value!);
        }
        Append(hash, "plugins.json");
        hash.AppendData(SHA256.HashData(pipelineFile));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The whole hash, once the entries are built.</summary>
    public static string Of(string sourcesHash, IEnumerable<PipelineStage> stages)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, sourcesHash);
        foreach (var stage in stages)
        {
            Append(hash, stage.Entry.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Append(hash, stage.Hash);
        }
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // Length-prefixed, so no two different sequences of strings hash the same bytes.
    private static void Append(IncrementalHash hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[sizeof(int)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}

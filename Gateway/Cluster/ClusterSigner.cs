using System.Security.Cryptography;
using System.Text;

namespace Gateway.Cluster;

/// <summary>
/// Signs what a node writes to Redis and checks what it reads, with keys derived from the cluster secret: a message is
/// <c>v1.&lt;HMAC-SHA256 hex&gt;.&lt;JSON&gt;</c>, the HMAC covering its kind and JSON, so a node state cannot pass for a reload
/// order nor one cluster's message for another's. The cluster's id, which names its Redis keys, is derived the same way.
/// </summary>
internal sealed class ClusterSigner
{
    private const string Version = "v1.";
    private readonly byte[] _key;

    public ClusterSigner(string secret)
    {
        var secretBytes = Encoding.UTF8.GetBytes(secret);
        _key = HMACSHA256.HashData(secretBytes, "gateway-cluster-messages"u8);
        ClusterId = Convert.ToHexStringLower(HMACSHA256.HashData(secretBytes, "gateway-cluster-id"u8))[..16];
    }

    /// <summary>Names the cluster without saying anything about its secret.</summary>
    public string ClusterId { get; }

    public string Sign(string kind, string json) => $"{Version}{Convert.ToHexStringLower(Mac(kind, json))}.{json}";

    /// <summary>The JSON of a message of <paramref name="kind"/> signed with this cluster's secret; null for anything else.</summary>
    public string? Open(string kind, string? message)
    {
        const int MacLength = HMACSHA256.HashSizeInBytes * 2;
        if (message is null || message.Length < Version.Length + MacLength + 1 || !message.StartsWith(Version, StringComparison.Ordinal)
            || message[Version.Length + MacLength] != '.')
        {
            return null;
        }
        var json = message[(Version.Length + MacLength + 1)..];
        Span<byte> presented = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(message.AsSpan(Version.Length, MacLength), presented, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != presented.Length)
        {
            return null;
        }
        return CryptographicOperations.FixedTimeEquals(presented, Mac(kind, json)) ? json : null;
    }

    private byte[] Mac(string kind, string json) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(kind + "\n" + json));
}

using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.ObjectPool;

namespace Gateway.Plugins.Auth;

/// <summary>
/// SHA-256 of a request's credential. Pooled <see cref="IncrementalHash"/> instances are reused: the one-shot
/// <c>SHA256.HashData</c> sets up a new native digest context per call, which here costs more than the hashing.
/// </summary>
/// <remarks>
/// A pool, not a <c>[ThreadStatic]</c>: thread statics in an unloadable plugin race the runtime's cleanup when a thread
/// exits while the plugin unloads, which can crash the process (dotnet/runtime#110837).
/// </remarks>
internal static class Sha256
{
    private static readonly ObjectPool<IncrementalHash> Hashes = new DefaultObjectPool<IncrementalHash>(new HashPolicy());

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var hash = Hashes.Get();
        hash.AppendData(data);
        hash.GetHashAndReset(destination);
        Hashes.Return(hash);
    }

    public static void Hash(ReadOnlySpan<char> text, Span<byte> destination)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = maxBytes > 512 ? ArrayPool<byte>.Shared.Rent(maxBytes) : null;
        Span<byte> utf8 = rented is null ? stackalloc byte[512] : rented;
        Hash(utf8[..Encoding.UTF8.GetBytes(text, utf8)], destination);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        }
    }

    private sealed class HashPolicy : PooledObjectPolicy<IncrementalHash>
    {
        public override IncrementalHash Create() => IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        // GetHashAndReset leaves it ready for the next credential.
        public override bool Return(IncrementalHash hash) => true;
    }
}

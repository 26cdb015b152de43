using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Plugins.Auth;

/// <summary>
/// SHA-256 of a request's credential. A per-thread <see cref="IncrementalHash"/> is reused: the one-shot
/// <c>SHA256.HashData</c> sets up a new native digest context per call, which here costs more than the hashing.
/// </summary>
internal static class Sha256
{
    [ThreadStatic]
    private static IncrementalHash? t_hash;

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var hash = t_hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(data);
        hash.GetHashAndReset(destination);
    }

    public static void Hash(ReadOnlySpan<char> text, Span<byte> destination)
    {
        var hash = t_hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = maxBytes > 512 ? ArrayPool<byte>.Shared.Rent(maxBytes) : null;
        Span<byte> utf8 = rented is null ? stackalloc byte[512] : rented;
        hash.AppendData(utf8[..Encoding.UTF8.GetBytes(text, utf8)]);
        hash.GetHashAndReset(destination);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        }
    }
}

using System.Security.Cryptography;
using System.Text;

namespace Gateway.Admin;

/// <summary>
/// A bearer key of which only the SHA-256 hash is kept: presented keys are hashed and compared in constant time, so
/// neither the key's length nor its prefix leaks through timing.
/// </summary>
internal sealed class HashedKey(string key)
{
    private const string Scheme = "Bearer ";

    private readonly byte[] _hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The key a request presents as <c>Authorization: Bearer &lt;key&gt;</c>; empty when it presents none.</summary>
    public static ReadOnlySpan<char> PresentedBy(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? authorization.AsSpan(Scheme.Length).Trim() : default;
    }

    public bool Matches(ReadOnlySpan<char> presented)
    {
        // Keys are short; anything longer is wrong and not worth hashing.
        if (presented.IsEmpty || presented.Length > 256)
        {
            return false;
        }
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(presented.Length)];
        var length = Encoding.UTF8.GetBytes(presented, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        return CryptographicOperations.FixedTimeEquals(hash, _hash);
    }
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Gateway.Admin;

/// <summary>
/// The admin API's bearer key. Only its SHA-256 hash is kept, and presented keys are hashed and compared in constant
/// time, so neither the key's length nor its prefix leaks through timing.
/// </summary>
internal sealed partial class AdminKey
{
    private readonly byte[] _hash;

    public AdminKey(IOptions<AdminOptions> options, ILogger<AdminKey> logger)
    {
        var key = options.Value.ApiKey;
        if (string.IsNullOrWhiteSpace(key))
        {
            key = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
            Log.Generated(logger, key);
        }
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }

    public bool Matches(ReadOnlySpan<char> presented)
    {
        // Keys are short; anything longer is wrong and not worth hashing.
        if (presented.Length > 256)
        {
            return false;
        }
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(presented.Length)];
        var length = Encoding.UTF8.GetBytes(presented, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        return CryptographicOperations.FixedTimeEquals(hash, _hash);
    }

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static partial class Log
    {
        [LoggerMessage(EventIds.AdminKeyGenerated, LogLevel.Warning, "No Gateway:Admin:ApiKey is configured (set Gateway__Admin__ApiKey to choose one); the admin API key for this run is {ApiKey}")]
        public static partial void Generated(ILogger logger, string apiKey);
    }
}

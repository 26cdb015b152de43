using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Gateway.Admin;

/// <summary>The admin API's bearer key (<see cref="HashedKey"/>): the configured one, or one generated and logged at start.</summary>
internal sealed partial class AdminKey
{
    private readonly HashedKey _key;

    public AdminKey(IOptions<AdminOptions> options, ILogger<AdminKey> logger)
    {
        var key = options.Value.ApiKey;
        if (string.IsNullOrWhiteSpace(key))
        {
            key = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
            Log.Generated(logger, key);
        }
        _key = new HashedKey(key);
    }

    public bool Matches(ReadOnlySpan<char> presented) => _key.Matches(presented);

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static partial class Log
    {
        [LoggerMessage(EventIds.AdminKeyGenerated, LogLevel.Warning, "No Gateway:Admin:ApiKey is configured (set Gateway__Admin__ApiKey to choose one); the admin API key for this run is {ApiKey}")]
        public static partial void Generated(ILogger logger, string apiKey);
    }
}

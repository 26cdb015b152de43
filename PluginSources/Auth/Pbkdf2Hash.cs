using System.Security.Cryptography;

namespace Gateway.Plugins.Auth;

/// <summary>A stored password: <c>pbkdf2-sha256$iterations$salt-base64$hash-base64</c>.</summary>
internal sealed class Pbkdf2Hash
{
    private const string Prefix = "pbkdf2-sha256$";
    private const int MinimumIterations = 100_000;

    private Pbkdf2Hash(int iterations, byte[] salt, byte[] hash)
    {
        Iterations = iterations;
        Salt = salt;
        Hash = hash;
    }

    public int Iterations { get; }

    public byte[] Salt { get; }

    public byte[] Hash { get; }

    /// <exception cref="PluginConfigurationException">Not in the format, or too weak.</exception>
    public static Pbkdf2Hash Parse(string value, string path)
    {
        var parts = value.StartsWith(Prefix, StringComparison.Ordinal) ? value[Prefix.Length..].Split('$') : [];
        if (parts.Length != 3 || !int.TryParse(parts[0], out var iterations))
        {
            throw new PluginConfigurationException(path, "expected pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>");
        }
        if (iterations < MinimumIterations)
        {
            throw new PluginConfigurationException(path, $"at least {MinimumIterations} iterations are required");
        }
        try
        {
            var salt = Convert.FromBase64String(parts[1]);
            var hash = Convert.FromBase64String(parts[2]);
            if (salt.Length < 16 || hash.Length < 32)
            {
                throw new PluginConfigurationException(path, "the salt must be at least 16 bytes and the hash 32");
            }
            return new Pbkdf2Hash(iterations, salt, hash);
        }
        catch (FormatException)
        {
            throw new PluginConfigurationException(path, "the salt and hash must be base64");
        }
    }

    public bool Verify(ReadOnlySpan<char> password)
    {
        Span<byte> derived = stackalloc byte[Hash.Length];
        Rfc2898DeriveBytes.Pbkdf2(password, Salt, derived, Iterations, HashAlgorithmName.SHA256);
        return CryptographicOperations.FixedTimeEquals(derived, Hash);
    }
}

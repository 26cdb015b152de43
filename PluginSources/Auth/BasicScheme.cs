using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Auth;

/// <summary>
/// RFC 7617 basic credentials checked against PBKDF2 hashes. Deriving a hash takes tens of milliseconds by design, so
/// a user's last verified password is remembered as its SHA-256 and later requests compare against that; a wrong
/// password, or an unknown user (checked against a dummy hash), pays the full derivation.
/// </summary>
internal sealed class BasicScheme : IAuthScheme
{
    private readonly FrozenDictionary<string, Pbkdf2Hash> _users;
    private readonly ConcurrentDictionary<string, byte[]> _verified = new(StringComparer.Ordinal);
    private readonly Pbkdf2Hash _dummy;

    private BasicScheme(FrozenDictionary<string, Pbkdf2Hash> users, string realm)
    {
        _users = users;
        _dummy = users.Values.First();
        Challenge = $"Basic realm=\"{realm}\", charset=\"UTF-8\"";
    }

    public string Challenge { get; }

    public static BasicScheme Create(SchemeOptions options, string path)
    {
        SchemeValidation.OnlyFields(options, path, "realm", "users");
        if (options.Users is not { Count: > 0 } users)
        {
            throw new PluginConfigurationException(path + ".users", "at least one user is required");
        }
        var parsed = new Dictionary<string, Pbkdf2Hash>(StringComparer.Ordinal);
        for (var i = 0; i < users.Count; i++)
        {
            if (users[i].User.Length == 0 || users[i].User.Contains(':'))
            {
                throw new PluginConfigurationException($"{path}.users[{i}].user", "a user name is non-empty and has no ':'");
            }
            if (!parsed.TryAdd(users[i].User, Pbkdf2Hash.Parse(users[i].Pbkdf2, $"{path}.users[{i}].pbkdf2")))
            {
                throw new PluginConfigurationException($"{path}.users[{i}].user", $"'{users[i].User}' is listed twice");
            }
        }
        var realm = options.Realm ?? "gateway";
        if (realm.Contains('"'))
        {
            throw new PluginConfigurationException(path + ".realm", "a realm cannot contain '\"'");
        }
        return new BasicScheme(parsed.ToFrozenDictionary(StringComparer.Ordinal), realm);
    }

    public ValueTask<AuthOutcome> AuthenticateAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count != 1 || !authorization[0]!.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult(AuthOutcome.Absent);
        }
        return ValueTask.FromResult(Verify(authorization[0]!.AsSpan(6).Trim()));
    }

    private AuthOutcome Verify(ReadOnlySpan<char> encoded)
    {
        Span<byte> decoded = stackalloc byte[Math.Min(encoded.Length, 1024)];
        if (!Convert.TryFromBase64Chars(encoded, decoded, out var length))
        {
            return AuthOutcome.Reject("malformed basic credentials");
        }
        var credentials = Encoding.UTF8.GetString(decoded[..length]);
        var colon = credentials.IndexOf(':');
        if (colon <= 0)
        {
            return AuthOutcome.Reject("malformed basic credentials");
        }
        var user = credentials[..colon];
        var password = credentials.AsSpan(colon + 1);
        if (!_users.TryGetValue(user, out var stored))
        {
            _dummy.Verify(password);
            return AuthOutcome.Reject("unknown user or wrong password");
        }

        Span<byte> fingerprint = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(password.ToArray()), fingerprint);
        if (_verified.TryGetValue(user, out var known) && CryptographicOperations.FixedTimeEquals(fingerprint, known))
        {
            return AuthOutcome.Accept(user);
        }
        if (!stored.Verify(password))
        {
            return AuthOutcome.Reject("unknown user or wrong password");
        }
        _verified[user] = fingerprint.ToArray();
        return AuthOutcome.Accept(user);
    }

    public void RemoveCredentials(HttpRequest request) => request.Headers.Remove(HeaderNames.Authorization);
}

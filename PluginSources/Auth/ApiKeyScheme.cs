using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Plugins.Auth;

/// <summary>
/// A key in a header or query parameter. A presented key is compared with every configured key in constant time, so
/// neither the match nor its position shows in the timing: with keys given in clear, byte for byte; with keys given as
/// SHA-256 hashes, hash against hash (hashing costs more than the whole clear-key check, so it is done only when such keys exist).
/// </summary>
internal sealed class ApiKeyScheme : IAuthScheme
{
    private const int HashSize = 32;
    private const int MaxKeyBytes = 512;
    private readonly string _header;
    private readonly string? _query;
    private readonly (byte[] Key, string Consumer)[] _clear;
    private readonly (byte[] Hash, string Consumer)[] _hashed;

    private ApiKeyScheme(string header, string? query, (byte[], string)[] clear, (byte[], string)[] hashed)
    {
        _header = header;
        _query = query;
        _clear = clear;
        _hashed = hashed;
        Challenge = $"ApiKey header=\"{header}\"";
    }

    public string Challenge { get; }

    public static ApiKeyScheme Create(SchemeOptions options, string path)
    {
        SchemeValidation.OnlyFields(options, path, "header", "query", "keys");
        var header = options.Header ?? "x-api-key";
        SchemeValidation.HeaderName(header, path + ".header");
        if (options.Keys is not { Count: > 0 } keys)
        {
            throw new PluginConfigurationException(path + ".keys", "at least one key is required");
        }
        var clear = new List<(byte[], string)>();
        var hashed = new List<(byte[], string)>();
        for (var i = 0; i < keys.Count; i++)
        {
            var keyPath = $"{path}.keys[{i}]";
            var consumer = keys[i].Consumer ?? $"key-{i}";
            switch (keys[i])
            {
                case { Key: { Length: > 0 } key, Sha256: null }:
                    var bytes = Encoding.UTF8.GetBytes(key);
                    if (key.Length < 16 || bytes.Length > MaxKeyBytes)
                    {
                        throw new PluginConfigurationException(keyPath, $"a key must be 16 characters to {MaxKeyBytes} bytes");
                    }
                    clear.Add((bytes, consumer));
                    break;
                case { Key: null, Sha256: { } hex }:
                    if (hex.Length != HashSize * 2 || !hex.All(char.IsAsciiHexDigit))
                    {
                        throw new PluginConfigurationException(keyPath + ".sha256", "must be 64 hex digits (a SHA-256)");
                    }
                    hashed.Add((Convert.FromHexString(hex), consumer));
                    break;
                default:
                    throw new PluginConfigurationException(keyPath, "give the key (a string, or \"key\") or its \"sha256\", not both and not empty");
            }
        }
        return new ApiKeyScheme(header, options.Query, [.. clear], [.. hashed]);
    }

    public ValueTask<AuthOutcome> AuthenticateAsync(HttpContext context)
    {
        var request = context.Request;
        var presented = request.Headers[_header];
        if (presented.Count == 0 && _query is not null)
        {
            presented = request.Query[_query];
        }
        if (presented.Count == 0)
        {
            return ValueTask.FromResult(AuthOutcome.Absent);
        }
        if (presented.Count > 1)
        {
            return ValueTask.FromResult(AuthOutcome.Reject("more than one API key"));
        }
        return ValueTask.FromResult(Match(presented[0]!));
    }

    private AuthOutcome Match(string key)
    {
        Span<byte> utf8 = stackalloc byte[MaxKeyBytes];
        if (!Encoding.UTF8.TryGetBytes(key, utf8, out var length))
        {
            return AuthOutcome.Reject("unknown API key");
        }
        var presented = utf8[..length];
        string? consumer = null;
        // No early exit: every configured key is compared, whichever matches.
        foreach (var (configured, name) in _clear)
        {
            consumer = CryptographicOperations.FixedTimeEquals(presented, configured) ? name : consumer;
        }
        if (_hashed.Length > 0)
        {
            Span<byte> hash = stackalloc byte[HashSize];
            Sha256.Hash(presented, hash);
            foreach (var (configured, name) in _hashed)
            {
                consumer = CryptographicOperations.FixedTimeEquals(hash, configured) ? name : consumer;
            }
        }
        return consumer is null ? AuthOutcome.Reject("unknown API key") : AuthOutcome.Accept(consumer);
    }

    public void RemoveCredentials(HttpRequest request)
    {
        request.Headers.Remove(_header);
        if (_query is not null && request.Query.ContainsKey(_query))
        {
            var query = QueryHelpers.ParseQuery(request.QueryString.Value);
            query.Remove(_query);
            request.QueryString = new QueryBuilder(query).ToQueryString();
        }
    }
}

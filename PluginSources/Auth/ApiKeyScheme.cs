using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Plugins.Auth;

/// <summary>
/// A key in a header or query parameter. Keys are held as SHA-256 hashes; a presented key is hashed and compared with
/// every configured hash in constant time, so neither the match nor its position shows in the timing.
/// </summary>
internal sealed class ApiKeyScheme : IAuthScheme
{
    private const int HashSize = 32;
    private readonly string _header;
    private readonly string? _query;
    private readonly byte[] _hashes;
    private readonly string[] _consumers;

    private ApiKeyScheme(string header, string? query, byte[] hashes, string[] consumers)
    {
        _header = header;
        _query = query;
        _hashes = hashes;
        _consumers = consumers;
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
        var hashes = new byte[keys.Count * HashSize];
        var consumers = new string[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var keyPath = $"{path}.keys[{i}]";
            var hash = hashes.AsSpan(i * HashSize, HashSize);
            switch (keys[i])
            {
                case { Key: { Length: > 0 } key, Sha256: null }:
                    if (key.Length < 16)
                    {
                        throw new PluginConfigurationException(keyPath, "a key must be at least 16 characters");
                    }
                    SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
                    break;
                case { Key: null, Sha256: { } hex }:
                    if (hex.Length != HashSize * 2 || !Convert.FromHexString(hex).AsSpan().TryCopyTo(hash))
                    {
                        throw new PluginConfigurationException(keyPath + ".sha256", "must be 64 hex digits (a SHA-256)");
                    }
                    break;
                default:
                    throw new PluginConfigurationException(keyPath, "give the key (a string, or \"key\") or its \"sha256\", not both and not empty");
            }
            consumers[i] = keys[i].Consumer ?? $"key-{i}";
        }
        return new ApiKeyScheme(header, options.Query, hashes, consumers);
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
        Span<byte> hash = stackalloc byte[HashSize];
        Sha256.Hash(key, hash);

        var match = -1;
        for (var i = 0; i < _consumers.Length; i++)
        {
            // No early exit: every configured key is compared, whichever matches.
            var equal = CryptographicOperations.FixedTimeEquals(hash, _hashes.AsSpan(i * HashSize, HashSize));
            match = equal ? i : match;
        }
        return match < 0 ? AuthOutcome.Reject("unknown API key") : AuthOutcome.Accept(_consumers[match]);
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

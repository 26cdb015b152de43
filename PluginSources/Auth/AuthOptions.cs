using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Plugins.Auth;

/// <summary>One authentication scheme; which fields apply depends on <see cref="Scheme"/>.</summary>
public record SchemeOptions
{
    /// <summary><c>apikey</c>, <c>basic</c> or <c>jwt</c>.</summary>
    public string? Scheme { get; init; }

    /// <summary>apikey: the header carrying the key (default <c>x-api-key</c>).</summary>
    public string? Header { get; init; }

    /// <summary>apikey: a query parameter that may carry the key instead; none by default.</summary>
    public string? Query { get; init; }

    /// <summary>apikey: the accepted keys.</summary>
    public IReadOnlyList<ApiKeyOptions>? Keys { get; init; }

    /// <summary>basic: the realm in the challenge (default <c>gateway</c>).</summary>
    public string? Realm { get; init; }

    /// <summary>basic: the accepted users and their PBKDF2 password hashes.</summary>
    public IReadOnlyList<BasicUserOptions>? Users { get; init; }

    /// <summary>jwt: accepted <c>iss</c> values (required).</summary>
    public IReadOnlyList<string>? Issuers { get; init; }

    /// <summary>jwt: accepted <c>aud</c> values (required).</summary>
    public IReadOnlyList<string>? Audiences { get; init; }

    /// <summary>jwt: accepted <c>alg</c> values, of HS256, RS256, ES256 (required).</summary>
    public IReadOnlyList<string>? Algorithms { get; init; }

    /// <summary>jwt: tolerance on <c>exp</c> and <c>nbf</c> (default 30 s).</summary>
    public int? ClockSkewSeconds { get; init; }

    /// <summary>jwt: inline keys: JWK objects (RSA, EC), or <c>{ "kid", "secret" }</c> for HS256.</summary>
    public IReadOnlyList<JsonElement>? SigningKeys { get; init; }

    /// <summary>jwt: a JWKS document to fetch keys from, refreshed in the background.</summary>
    public string? JwksUrl { get; init; }

    /// <summary>jwt: how often the JWKS is refetched (default 600 s).</summary>
    public int? JwksRefreshSeconds { get; init; }

    /// <summary>jwt: how long a request may wait for a JWKS fetch (default 2000 ms).</summary>
    public int? JwksWaitMilliseconds { get; init; }

    /// <summary>jwt: the claim naming the consumer (default <c>sub</c>).</summary>
    public string? ConsumerClaim { get; init; }

    /// <summary>jwt: how many validated tokens are remembered until they expire (default 10000; 0: none).</summary>
    public int? TokenCacheSize { get; init; }

    /// <summary>jwt: claims copied into <c>vars</c>, claim name to var name (e.g. for AbTesting's sticky var).</summary>
    public IReadOnlyDictionary<string, string>? ClaimVars { get; init; }

    /// <summary>jwt: claims copied to upstream headers, claim name to header name.</summary>
    public IReadOnlyDictionary<string, string>? ClaimHeaders { get; init; }
}

/// <summary>The Auth plugin's config: one scheme inline, or several under <see cref="Schemes"/> (any one suffices).</summary>
public sealed record AuthOptions : SchemeOptions
{
    /// <summary>Several schemes, tried in order; the first that accepts the request wins.</summary>
    public IReadOnlyList<SchemeOptions>? Schemes { get; init; }

    /// <summary>The <c>vars</c> key the consumer goes into (default <c>consumer</c>).</summary>
    public string? ConsumerVar { get; init; }

    /// <summary>An upstream header for the consumer; removed from the client's request either way.</summary>
    public string? ConsumerHeader { get; init; }

    /// <summary>Send the credentials upstream too (default false: they are removed).</summary>
    public bool PassCredentials { get; init; }
}

/// <summary>An API key: a string (the key itself), or an object naming the consumer and the key or its hash.</summary>
[JsonConverter(typeof(ApiKeyOptionsConverter))]
public sealed record ApiKeyOptions
{
    /// <summary>The consumer the key identifies; <c>key-N</c> by position when absent.</summary>
    public string? Consumer { get; init; }

    /// <summary>The key in clear, typically <c>${env:NAME}</c>.</summary>
    public string? Key { get; init; }

    /// <summary>The key's SHA-256, hex, so the file holds no secret.</summary>
    public string? Sha256 { get; init; }
}

/// <summary>A basic-auth user.</summary>
public sealed record BasicUserOptions
{
    public required string User { get; init; }

    /// <summary><c>pbkdf2-sha256$iterations$salt-base64$hash-base64</c>.</summary>
    public required string Pbkdf2 { get; init; }
}

internal sealed class ApiKeyOptionsConverter : JsonConverter<ApiKeyOptions>
{
    public override ApiKeyOptions? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new ApiKeyOptions { Key = reader.GetString() };
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("an API key is a string or an object with consumer and key or sha256");
        }
        string? consumer = null, key = null, sha256 = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            var value = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            switch (name?.ToLowerInvariant())
            {
                case "consumer": consumer = value; break;
                case "key": key = value; break;
                case "sha256": sha256 = value; break;
                default: throw new JsonException($"unknown property '{name}'; an API key has consumer, key or sha256");
            }
        }
        return new ApiKeyOptions { Consumer = consumer, Key = key, Sha256 = sha256 };
    }

    public override void Write(Utf8JsonWriter writer, ApiKeyOptions value, JsonSerializerOptions options) =>
        throw new NotSupportedException();
}

using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Auth;

/// <summary>
/// Bearer JSON Web Tokens (RFC 7519) validated with Microsoft.IdentityModel: signature with one of the configured
/// algorithms only (so <c>none</c> and HS/RS confusion fail), issuer, audience, and lifetime with clock skew; keys
/// inline or from a JWKS URL. A token that passed is remembered until it expires (see <see cref="ValidatedTokenCache"/>).
/// </summary>
internal sealed class JwtScheme : IAuthScheme, IDisposable
{
    private static readonly string[] SupportedAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;
    private readonly IReadOnlyList<SecurityKey> _inlineKeys;
    private readonly JwksKeySource? _jwks;
    private readonly string _consumerClaim;
    private readonly KeyValuePair<string, string>[] _claimHeaders;
    private readonly KeyValuePair<string, string>[] _claimVars;
    private readonly ValidatedTokenCache? _validated;

    private JwtScheme(TokenValidationParameters parameters, IReadOnlyList<SecurityKey> inlineKeys, JwksKeySource? jwks, string consumerClaim, KeyValuePair<string, string>[] claimHeaders, KeyValuePair<string, string>[] claimVars, int tokenCacheSize, TimeProvider time)
    {
        _claimVars = claimVars;
        _validated = tokenCacheSize > 0 ? new ValidatedTokenCache(time, tokenCacheSize) : null;
        _inlineKeys = inlineKeys;
        _jwks = jwks;
        _consumerClaim = consumerClaim;
        _claimHeaders = claimHeaders;
        _parameters = parameters;
        _parameters.IssuerSigningKeyResolver = (_, _, kid, _) => ResolveKeys(kid);
    }

    public string Challenge => "Bearer";

    // A token naming a key id gets only that key; one naming none is tried against all of them.
    private IEnumerable<SecurityKey> ResolveKeys(string? kid)
    {
        var keys = _jwks is null ? _inlineKeys : [.. _inlineKeys, .. _jwks.Keys];
        return kid is null ? keys : keys.Where(key => string.Equals(key.KeyId, kid, StringComparison.Ordinal)).ToArray();
    }

    /// <summary>The upstream headers claims are copied to; the client's own values for them are removed.</summary>
    public IEnumerable<string> ClaimHeaderNames => _claimHeaders.Select(pair => pair.Value);

    public static JwtScheme Create(SchemeOptions options, string path, ILogger logger, TimeProvider time)
    {
        SchemeValidation.OnlyFields(options, path, "issuers", "audiences", "algorithms", "clockSkewSeconds", "signingKeys",
            "jwksUrl", "jwksRefreshSeconds", "jwksWaitMilliseconds", "consumerClaim", "claimHeaders", "claimVars", "tokenCacheSize");
        var issuers = Required(options.Issuers, path + ".issuers", "at least one issuer is required");
        var audiences = Required(options.Audiences, path + ".audiences", "at least one audience is required");
        var algorithms = Required(options.Algorithms, path + ".algorithms", "list the accepted algorithms (HS256, RS256, ES256)");
        for (var i = 0; i < algorithms.Count; i++)
        {
            if (!SupportedAlgorithms.Contains(algorithms[i]))
            {
                throw new PluginConfigurationException($"{path}.algorithms[{i}]", $"'{algorithms[i]}' is not one of HS256, RS256, ES256");
            }
        }
        var inlineKeys = (options.SigningKeys ?? []).Select((key, i) => ParseKey(key, $"{path}.signingKeys[{i}]")).ToArray();
        if (inlineKeys.Length == 0 && options.JwksUrl is null)
        {
            throw new PluginConfigurationException(path, "give signingKeys or a jwksUrl");
        }
        if (options.ClockSkewSeconds is < 0 or > 600)
        {
            throw new PluginConfigurationException(path + ".clockSkewSeconds", "must be 0 to 600");
        }
        var claimHeaders = (options.ClaimHeaders ?? new Dictionary<string, string>()).ToArray();
        foreach (var (claim, header) in claimHeaders)
        {
            SchemeValidation.HeaderName(header, $"{path}.claimHeaders.{claim}");
        }

        JwksKeySource? jwks = null;
        if (options.JwksUrl is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
            {
                throw new PluginConfigurationException(path + ".jwksUrl", "must be an absolute http(s) URL");
            }
            jwks = new JwksKeySource(
                uri,
                TimeSpan.FromSeconds(options.JwksRefreshSeconds ?? 600),
                TimeSpan.FromMilliseconds(options.JwksWaitMilliseconds ?? 2000),
                logger,
                time);
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuers = issuers,
            ValidAudiences = audiences,
            ValidAlgorithms = algorithms,
            ClockSkew = TimeSpan.FromSeconds(options.ClockSkewSeconds ?? 30),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            TryAllIssuerSigningKeys = false,
            // Lifetimes are judged by the gateway's clock, the one the validated-token cache reads too.
            LifetimeValidator = (notBefore, expires, _, parameters) => ValidateLifetime(notBefore, expires, parameters.ClockSkew, time),
        };
        if (options.TokenCacheSize is < 0)
        {
            throw new PluginConfigurationException(path + ".tokenCacheSize", "must be 0 (no cache) or more");
        }
        return new JwtScheme(parameters, inlineKeys, jwks, options.ConsumerClaim ?? "sub", claimHeaders,
            (options.ClaimVars ?? new Dictionary<string, string>()).ToArray(), options.TokenCacheSize ?? 10_000, time);
    }

    // Microsoft.IdentityModel's own lifetime rules (expiry required, expiry after not-before, skew both ways), on the
    // gateway's TimeProvider where the library reads the system clock; it raises the same exceptions.
    private static bool ValidateLifetime(DateTime? notBefore, DateTime? expires, TimeSpan clockSkew, TimeProvider time)
    {
        if (expires is not { } validTo)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiration time.");
        }
        if (notBefore is { } validFrom && validFrom > validTo)
        {
            throw new SecurityTokenInvalidLifetimeException("The token's not-before time is after its expiration time.") { NotBefore = validFrom, Expires = validTo };
        }
        var now = time.GetUtcNow().UtcDateTime;
        if (notBefore is { } from && from > now + clockSkew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = from };
        }
        if (validTo < now - clockSkew)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = validTo };
        }
        return true;
    }

    private static IReadOnlyList<string> Required(IReadOnlyList<string>? values, string path, string message) =>
        values is { Count: > 0 } && values.All(value => value.Length > 0) ? values : throw new PluginConfigurationException(path, message);

    private static SecurityKey ParseKey(JsonElement key, string path)
    {
        if (key.ValueKind != JsonValueKind.Object)
        {
            throw new PluginConfigurationException(path, "a key is a JWK object or { \"kid\", \"secret\" }");
        }
        if (key.TryGetProperty("secret", out var secret))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(secret.GetString() ?? string.Empty);
            if (bytes.Length < 32)
            {
                throw new PluginConfigurationException(path + ".secret", "an HS256 secret must be at least 32 bytes");
            }
            return new SymmetricSecurityKey(bytes) { KeyId = key.TryGetProperty("kid", out var kid) ? kid.GetString() : null };
        }
        try
        {
            var jwk = new JsonWebKey(key.GetRawText());
            if (jwk.Kty is not (JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve))
            {
                throw new PluginConfigurationException(path + ".kty", "inline JWKs must be RSA or EC public keys");
            }
            if (jwk.HasPrivateKey)
            {
                throw new PluginConfigurationException(path, "this is a private key; give the public key only");
            }
            return jwk;
        }
        catch (ArgumentException ex)
        {
            throw new PluginConfigurationException(path, "not a valid JWK: " + ex.Message);
        }
    }

    /// <summary>Fetches the JWKS, if the scheme has one, waiting at most its configured bound; never throws.</summary>
    public Task LoadKeysAsync() => _jwks?.LoadAsync() ?? Task.CompletedTask;

    public async ValueTask<AuthOutcome> AuthenticateAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count != 1 || !authorization[0]!.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthOutcome.Absent;
        }
        var tokenText = authorization[0]!.AsSpan(7).Trim();
        var digest = _validated is null ? default : ValidatedTokenCache.Digest(tokenText);
        if (_validated is not null && _validated.TryGet(digest, out var remembered))
        {
            return remembered;
        }
        var token = tokenText.ToString();
        _jwks?.RefreshIfStale();
        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && _jwks is not null
            && await _jwks.RefetchForUnknownKeyAsync().ConfigureAwait(false))
        {
            result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        }
        if (!result.IsValid)
        {
            return AuthOutcome.Reject(Describe(result.Exception));
        }
        var identity = result.ClaimsIdentity;
        if (identity.FindFirst(_consumerClaim)?.Value is not { Length: > 0 } consumer)
        {
            return AuthOutcome.Reject($"the token has no '{_consumerClaim}' claim");
        }
        var outcome = AuthOutcome.Accept(consumer, Claims(identity, _claimHeaders), Claims(identity, _claimVars));
        _validated?.Add(digest, outcome, new DateTimeOffset(DateTime.SpecifyKind(result.SecurityToken.ValidTo, DateTimeKind.Utc)));
        return outcome;
    }

    // Each mapped claim present in the token, its values joined with spaces, under its target name.
    private static List<KeyValuePair<string, string>>? Claims(ClaimsIdentity identity, KeyValuePair<string, string>[] map)
    {
        if (map.Length == 0)
        {
            return null;
        }
        var found = new List<KeyValuePair<string, string>>(map.Length);
        foreach (var (claim, target) in map)
        {
            var values = identity.FindAll(claim).Select(c => c.Value).ToArray();
            if (values.Length > 0)
            {
                found.Add(new(target, string.Join(' ', values)));
            }
        }
        return found;
    }

    // What went wrong, in words that help the operator and give nothing away a client could not see for itself.
    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not valid yet",
        SecurityTokenInvalidIssuerException => "the token's issuer is not accepted",
        SecurityTokenInvalidAudienceException => "the token's audience is not accepted",
        SecurityTokenInvalidAlgorithmException => "the token's algorithm is not accepted",
        SecurityTokenSignatureKeyNotFoundException => "the token's signing key is unknown",
        SecurityTokenInvalidSignatureException => "the token's signature is invalid",
        SecurityTokenNoExpirationException => "the token has no expiry",
        SecurityTokenMalformedException or ArgumentException => "the token is malformed",
        _ => "the token is not valid",
    };

    public void RemoveCredentials(HttpRequest request) => request.Headers.Remove(HeaderNames.Authorization);

    public void Dispose() => _jwks?.Dispose();
}

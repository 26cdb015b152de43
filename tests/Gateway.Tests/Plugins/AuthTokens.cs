using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Plugins;

/// <summary>Keys and tokens for the Auth plugin's tests, made with the same library the plugin validates with.</summary>
internal static class AuthTokens
{
    public const string Issuer = "https://issuer.test";
    public const string Audience = "api";
    public const string HmacSecret = "an-hs256-secret-of-at-least-32-bytes!";

    public static SecurityKey Hmac(string kid = "hs") => new SymmetricSecurityKey(Encoding.UTF8.GetBytes(HmacSecret)) { KeyId = kid };

    public static RsaSecurityKey NewRsa(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    public static ECDsaSecurityKey NewEc(string kid) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid };

    public static JsonObject PublicJwk(RsaSecurityKey key)
    {
        var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "RSA", ["kid"] = key.KeyId, ["use"] = "sig", ["alg"] = "RS256",
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus), ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
    }

    public static JsonObject PublicJwk(ECDsaSecurityKey key)
    {
        var parameters = key.ECDsa.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "EC", ["kid"] = key.KeyId, ["crv"] = "P-256", ["use"] = "sig",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X), ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
    }

    public static string Create(SecurityKey key, string algorithm, string subject = "alice", DateTime? expires = null,
        string issuer = Issuer, string audience = Audience, IDictionary<string, object>? claims = null)
    {
        var now = DateTime.UtcNow;
        var expiry = expires ?? now.AddMinutes(5);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = claims,
            IssuedAt = expiry.AddMinutes(-10),
            NotBefore = expiry.AddMinutes(-10),
            Expires = expiry,
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }

    /// <summary>A token with <c>"alg": "none"</c> and no signature.</summary>
    public static string Unsigned(string subject = "alice")
    {
        static string Part(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        return $"{Part("""{"alg":"none","typ":"JWT"}""")}.{Part($$"""{"sub":"{{subject}}","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{exp}}}""")}.";
    }

    /// <summary>HS256 signed with an RSA public key's JWK text as the secret: the classic algorithm-confusion attack.</summary>
    public static string HmacWithPublicKey(RsaSecurityKey key) =>
        Create(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(PublicJwk(key).ToJsonString())) { KeyId = key.KeyId }, SecurityAlgorithms.HmacSha256);

    public static string Pbkdf2(string password, int iterations = 100_000)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }
}

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Plugins;
using Gateway.Plugins.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Benchmarks;

/// <summary>
/// The Auth plugin's own cost per accepted request, both filter steps called as the pipeline calls them, the upstream
/// answering at once. Each call first puts the credential back on the request (the plugin removes it); <c>CredentialOnly</c>
/// measures just that, to subtract.
/// </summary>
[MemoryDiagnoser]
public class AuthBenchmarks
{
    private AuthPlugin _plugin = null!;
    private BenchmarkPluginContext _context = null!;
    private string _header = null!;
    private string _value = null!;

    public enum SchemeUnderTest
    {
        ApiKey,
        JwtHs256,
        JwtRs256,
    }

    [Params(SchemeUnderTest.ApiKey, SchemeUnderTest.JwtHs256, SchemeUnderTest.JwtRs256)]
    public SchemeUnderTest Scheme { get; set; }

    /// <summary>jwt: true measures a token seen before (the validated-token cache); false, full validation each time.</summary>
    [Params(true, false)]
    public bool TokenCache { get; set; }
    [GlobalSetup]
    public void Setup()
    {
        const string Secret = "an-hs256-secret-of-at-least-32-bytes!";
        var rsa = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "rsa-1" };
        var rsaPublic = rsa.Rsa.ExportParameters(false);
        string config;
        (config, _header, _value) = Scheme switch
        {
            SchemeUnderTest.ApiKey => (
                """{ "scheme": "apikey", "keys": [ { "consumer": "a", "key": "key-a-0123456789abcdef" }, { "consumer": "b", "key": "key-b-0123456789abcdef" }, { "consumer": "c", "key": "key-c-0123456789abcdef" } ] }""",
                "x-api-key", "key-b-0123456789abcdef"),
            SchemeUnderTest.JwtHs256 => (
                $$"""{ "scheme": "jwt", "issuers": ["https://issuer.test"], "audiences": ["api"], "algorithms": ["HS256"], "tokenCacheSize": {{(TokenCache ? 10000 : 0)}}, "signingKeys": [ { "kid": "hs", "secret": "{{Secret}}" } ] }""",
                "Authorization", "Bearer " + Token(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)) { KeyId = "hs" }, SecurityAlgorithms.HmacSha256)),
            _ => (
                $$"""{ "scheme": "jwt", "issuers": ["https://issuer.test"], "audiences": ["api"], "algorithms": ["RS256"], "tokenCacheSize": {{(TokenCache ? 10000 : 0)}}, "signingKeys": [ { "kty": "RSA", "kid": "rsa-1", "n": "{{Base64UrlEncoder.Encode(rsaPublic.Modulus)}}", "e": "{{Base64UrlEncoder.Encode(rsaPublic.Exponent)}}" } ] }""",
                "Authorization", "Bearer " + Token(rsa, SecurityAlgorithms.RsaSha256)),
        };
        var services = new ServiceCollection().AddOptions().AddProblemDetails().BuildServiceProvider();
        _plugin = new AuthPlugin(new PluginSetup("Auth", JsonDocument.Parse(config).RootElement, NullLogger.Instance, services));
        _context = new BenchmarkPluginContext();
        Accepted();
        if (_context.Vars["consumer"] is null)
        {
            throw new InvalidOperationException("the benchmark's credential was not accepted");
        }
    }

    private static string Token(SecurityKey key, string algorithm) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "https://issuer.test",
        Audience = "api",
        Subject = new ClaimsIdentity([new Claim("sub", "alice")]),
        Expires = DateTime.UtcNow.AddDays(1),
        SigningCredentials = new SigningCredentials(key, algorithm),
    });

    [Benchmark(Baseline = true)]
    public void CredentialOnly() => _context.HttpContext.Request.Headers[_header] = _value;

    [Benchmark]
    public bool Accepted()
    {
        _context.HttpContext.Request.Headers[_header] = _value;
        return FilterSteps.Run(_plugin, _context);
    }
}

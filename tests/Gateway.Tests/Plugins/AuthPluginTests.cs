using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Plugins;

/// <summary>The first-party Auth plugin, built into plugins/ and loaded like any other, in front of a real origin.</summary>
public sealed class AuthPluginTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> StartAsync(string authConfig, TimeProvider? time = null) => TestGateway.Create()
        .Time(time ?? TimeProvider.System)
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("Auth")
        .TestPlugin("Probe")
        .Script("tenant.js", "function onResponse(ctx) { if ('tenant' in ctx.vars) ctx.response.headers.set('x-tenant-var', ctx.vars.tenant); }")
        .Pipeline($$"""
            { "pipeline": [
              { "plugin": "Auth", "config": {{authConfig}} },
              { "plugin": "Probe", "config": { "tag": "after-auth", "echoVar": "consumer" } },
              { "script": "scripts/tenant.js" }
            ] }
            """)
        .StartAsync();

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        headers?.Invoke(request.Headers);
        return await gateway.Proxy.SendAsync(request);
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response, params string[] challenges)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(challenges, response.Headers.WwwAuthenticate.Select(value => value.ToString()));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(401, (int)problem["status"]!);
        Assert.False(string.IsNullOrEmpty((string?)problem["traceId"]));
    }

    [Fact]
    public async Task ApiKey_AcceptsConfiguredKeysFromHeaderOrQuery_NamesTheConsumer_AndRemovesTheKey()
    {
        Environment.SetEnvironmentVariable("GATEWAY_TEST_AUTH_KEY", "env-key-0123456789abcdef");
        var hashed = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("ci-key-0123456789abcdef")));
        await using var gateway = await StartAsync($$"""
            { "scheme": "apikey", "query": "api_key", "consumerHeader": "x-consumer",
              "keys": [ "${env:GATEWAY_TEST_AUTH_KEY}", { "consumer": "ci", "sha256": "{{hashed}}" } ] }
            """);

        using var none = await GetAsync(gateway, "api/x");
        using var wrong = await GetAsync(gateway, "api/x", h => h.Add("x-api-key", "not-a-key-0123456789"));
        using var twoKeys = await GetAsync(gateway, "api/x", h => h.Add("x-api-key", ["env-key-0123456789abcdef", "x"]));
        using var fromEnv = await GetAsync(gateway, "api/x", h =>
        {
            h.Add("x-api-key", "env-key-0123456789abcdef");
            h.Add("x-consumer", "spoofed");
        });
        using var fromQuery = await GetAsync(gateway, "api/x?api_key=ci-key-0123456789abcdef&q=1");

        await AssertUnauthorizedAsync(none, "ApiKey header=\"x-api-key\"");
        await AssertUnauthorizedAsync(wrong, "ApiKey header=\"x-api-key\"");
        await AssertUnauthorizedAsync(twoKeys, "ApiKey header=\"x-api-key\"");
        Assert.Equal(0, _origin.Requests - 2);
        var envEcho = await OriginEcho.ReadAsync(fromEnv);
        Assert.Equal("key-0", envEcho.Headers["x-consumer"]);
        Assert.False(envEcho.Headers.ContainsKey("x-api-key"));
        Assert.Equal("key-0", fromEnv.Headers.GetValues("x-var").Single());
        var queryEcho = await OriginEcho.ReadAsync(fromQuery);
        Assert.Equal("ci", queryEcho.Headers["x-consumer"]);
        Assert.Equal("/api/x?q=1", queryEcho.Path);
        var counters = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!["entries"]![0]!["counters"]!;
        Assert.Equal((2, 1, 2), ((long)counters["accepted:apikey"]!, (long)counters["rejected:missing"]!, (long)counters["rejected:invalid"]!));
    }

    [Fact]
    public async Task Basic_AcceptsTheRightPasswordOnly_AndRemovesTheCredentials()
    {
        await using var gateway = await StartAsync($$"""
            { "scheme": "basic", "realm": "tests", "users": [ { "user": "alice", "pbkdf2": "{{AuthTokens.Pbkdf2("correct horse")}}" } ] }
            """);
        static Action<HttpRequestHeaders> Basic(string credentials) =>
            h => h.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));

        using var right = await GetAsync(gateway, "api/x", Basic("alice:correct horse"));
        using var again = await GetAsync(gateway, "api/x", Basic("alice:correct horse"));
        using var wrong = await GetAsync(gateway, "api/x", Basic("alice:battery staple"));
        using var unknown = await GetAsync(gateway, "api/x", Basic("mallory:correct horse"));
        using var malformed = await GetAsync(gateway, "api/x", h => h.Authorization = new AuthenticationHeaderValue("Basic", "%%%"));

        var echo = await OriginEcho.ReadAsync(right);
        Assert.False(echo.Headers.ContainsKey("authorization"));
        Assert.Equal("alice", right.Headers.GetValues("x-var").Single());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        foreach (var rejected in new[] { wrong, unknown, malformed })
        {
            await AssertUnauthorizedAsync(rejected, "Basic realm=\"tests\", charset=\"UTF-8\"");
        }
    }

    private static string JwtConfig(string keys, string algorithms = """["HS256", "RS256", "ES256"]""") => $$"""
        { "scheme": "jwt", "issuers": ["{{AuthTokens.Issuer}}"], "audiences": ["{{AuthTokens.Audience}}"],
          "algorithms": {{algorithms}}, "clockSkewSeconds": 5, "claimHeaders": { "tenant": "x-tenant" }, "claimVars": { "tenant": "tenant" },
          "signingKeys": {{keys}} }
        """;

    [Fact]
    public async Task Jwt_ValidTokensOfEachAlgorithm_PassWithTheirSubjectAndClaims()
    {
        var rsa = AuthTokens.NewRsa("rsa-1");
        var ec = AuthTokens.NewEc("ec-1");
        await using var gateway = await StartAsync(JwtConfig($$"""
            [ { "kid": "hs", "secret": "{{AuthTokens.HmacSecret}}" }, {{AuthTokens.PublicJwk(rsa).ToJsonString()}}, {{AuthTokens.PublicJwk(ec).ToJsonString()}} ]
            """));
        var tenant = new Dictionary<string, object> { ["tenant"] = "acme" };

        var tokens = new (SecurityKey Key, string Algorithm, string Subject)[]
            {
                (AuthTokens.Hmac(), SecurityAlgorithms.HmacSha256, "hs-user"),
                (rsa, SecurityAlgorithms.RsaSha256, "rsa-user"),
                (ec, SecurityAlgorithms.EcdsaSha256, "ec-user"),
            }
            .Select(t => (Token: AuthTokens.Create(t.Key, t.Algorithm, t.Subject, claims: tenant), t.Subject))
            .ToArray();

        // Each token twice: the second time it comes from the plugin's cache of validated tokens.
        foreach (var (token, subject) in tokens.SelectMany(t => new[] { t, t }))
        {
            using var response = await GetAsync(gateway, "api/x", h =>
            {
                h.Authorization = new AuthenticationHeaderValue("Bearer", token);
                h.Add("x-tenant", "spoofed");
            });
            var echo = await OriginEcho.ReadAsync(response);
            Assert.Equal(subject, response.Headers.GetValues("x-var").Single());
            Assert.Equal("acme", echo.Headers["x-tenant"]);
            Assert.Equal("acme", response.Headers.GetValues("x-tenant-var").Single());
            Assert.False(echo.Headers.ContainsKey("authorization"));
        }
    }

    public static TheoryData<string, string> BadTokens()
    {
        var rsa = SharedRsa;
        var other = AuthTokens.NewRsa("rsa-1");
        return new()
        {
            { "malformed", "not.a.jwt" },
            { "garbage", "eyJhbGciOiJSUzI1NiJ9.e30" },
            { "expired", AuthTokens.Create(rsa, SecurityAlgorithms.RsaSha256, expires: DateTime.UtcNow.AddMinutes(-1)) },
            { "wrongly signed", AuthTokens.Create(other, SecurityAlgorithms.RsaSha256) },
            { "alg none", AuthTokens.Unsigned() },
            { "HS256 with the RSA public key (alg confusion)", AuthTokens.HmacWithPublicKey(rsa) },
            { "unknown key id", AuthTokens.Create(AuthTokens.NewRsa("rsa-unknown"), SecurityAlgorithms.RsaSha256) },
            { "wrong issuer", AuthTokens.Create(rsa, SecurityAlgorithms.RsaSha256, issuer: "https://evil.test") },
            { "wrong audience", AuthTokens.Create(rsa, SecurityAlgorithms.RsaSha256, audience: "other") },
            { "HS256 not allowed", AuthTokens.Create(AuthTokens.Hmac(), SecurityAlgorithms.HmacSha256) },
        };
    }

    private static readonly RsaSecurityKey SharedRsa = AuthTokens.NewRsa("rsa-1");

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Jwt_BadToken_IsRejectedWith401(string what, string token)
    {
        await using var gateway = await StartAsync(JwtConfig($$"""[ {{AuthTokens.PublicJwk(SharedRsa).ToJsonString()}} ]""", """["RS256"]"""));

        using var response = await GetAsync(gateway, "api/x", h => h.Authorization = new AuthenticationHeaderValue("Bearer", token));

        await AssertUnauthorizedAsync(response, "Bearer");
        Assert.True(_origin.Requests == 0, what);
        Assert.Contains(gateway.Logs.Lines, line => line.Category == "Gateway.Plugins.Auth" && line.Message.StartsWith("Rejected /api/x: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Jwt_LifetimeIsJudgedByTheGatewaysClock_NotYetValid_ThenValidAndRemembered_ThenExpired()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // Valid from 10 minutes before its expiry, 20 minutes from now; the configured skew is 30 s.
        var token = AuthTokens.Create(SharedRsa, SecurityAlgorithms.RsaSha256, expires: clock.GetUtcNow().UtcDateTime.AddMinutes(20));
        await using var gateway = await StartAsync(JwtConfig($$"""[ {{AuthTokens.PublicJwk(SharedRsa).ToJsonString()}} ]""", """["RS256"]"""), clock);
        Task<HttpResponseMessage> Send() => GetAsync(gateway, "api/x", h => h.Authorization = new AuthenticationHeaderValue("Bearer", token));

        using var early = await Send();
        clock.Advance(TimeSpan.FromMinutes(11));
        using var valid = await Send();
        using var remembered = await Send();
        clock.Advance(TimeSpan.FromMinutes(10));
        using var expired = await Send();

        Assert.Equal(HttpStatusCode.Unauthorized, early.StatusCode);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (valid.StatusCode, remembered.StatusCode));
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        var reasons = gateway.Logs.Lines.Where(line => line.Message.StartsWith("Rejected /api/x: ", StringComparison.Ordinal)).Select(line => line.Message).ToList();
        Assert.Equal(2, reasons.Count);
        Assert.Contains("the token is not valid yet", reasons[0]);
        Assert.Contains("the token has expired", reasons[1]);
    }

    [Fact]
    public async Task Jwt_KeysFromAJwksUrl_AreFetchedAndRefetchedWhenTheIssuerRotates()
    {
        var first = AuthTokens.NewRsa("first");
        var second = AuthTokens.NewRsa("second");
        await using var jwks = await JwksServer.StartAsync(first);
        await using var gateway = await StartAsync($$"""
            { "scheme": "jwt", "issuers": ["{{AuthTokens.Issuer}}"], "audiences": ["{{AuthTokens.Audience}}"],
              "algorithms": ["RS256"], "jwksUrl": "{{jwks.Url}}" }
            """);

        using var before = await GetAsync(gateway, "api/x", h => h.Authorization = new("Bearer", AuthTokens.Create(first, SecurityAlgorithms.RsaSha256)));
        jwks.Publish(second);
        using var after = await GetAsync(gateway, "api/x", h => h.Authorization = new("Bearer", AuthTokens.Create(second, SecurityAlgorithms.RsaSha256)));

        var log = string.Join("; ", gateway.Logs.Lines.Where(line => line.Category == "Gateway.Plugins.Auth").Select(line => line.Message));
        Assert.True(before.StatusCode == HttpStatusCode.OK, log);
        Assert.True(after.StatusCode == HttpStatusCode.OK, log);
        Assert.Equal(2, jwks.Fetches);
    }

    [Fact]
    public async Task SeveralSchemes_AnyOneSuffices_AndA401ChallengesForEach()
    {
        await using var gateway = await StartAsync($$"""
            { "schemes": [
                { "scheme": "apikey", "keys": [ { "consumer": "svc", "key": "svc-key-0123456789abcdef" } ] },
                { "scheme": "jwt", "issuers": ["{{AuthTokens.Issuer}}"], "audiences": ["{{AuthTokens.Audience}}"], "algorithms": ["HS256"],
                  "signingKeys": [ { "kid": "hs", "secret": "{{AuthTokens.HmacSecret}}" } ] } ] }
            """);

        using var byKey = await GetAsync(gateway, "api/x", h => h.Add("x-api-key", "svc-key-0123456789abcdef"));
        using var byToken = await GetAsync(gateway, "api/x", h => h.Authorization = new("Bearer", AuthTokens.Create(AuthTokens.Hmac(), SecurityAlgorithms.HmacSha256, "bob")));
        using var neither = await GetAsync(gateway, "api/x");

        Assert.Equal("svc", byKey.Headers.GetValues("x-var").Single());
        Assert.Equal("bob", byToken.Headers.GetValues("x-var").Single());
        await AssertUnauthorizedAsync(neither, "ApiKey header=\"x-api-key\"", "Bearer");
    }

    [Theory]
    [InlineData("""{ "scheme": "apikey" }""", "$.pipeline[0].config.keys", "at least one key")]
    [InlineData("""{ "scheme": "apikey", "keys": ["short"] }""", "$.pipeline[0].config.keys[0]", "16 characters to 512 bytes")]
    [InlineData("""{ "scheme": "apikey", "keys": [ { "sha256": "abc" } ] }""", "$.pipeline[0].config.keys[0].sha256", "64 hex digits")]
    [InlineData("""{ "scheme": "apikey", "users": [], "keys": ["0123456789abcdef"] }""", "$.pipeline[0].config.users", "does not apply to scheme 'apikey'")]
    [InlineData("""{ "scheme": "kerberos" }""", "$.pipeline[0].config.scheme", "'kerberos' is not a scheme")]
    [InlineData("""{ "keys": ["0123456789abcdef"], "schemes": [ { "scheme": "apikey", "keys": ["0123456789abcdef"] } ] }""", "$.pipeline[0].config.keys", "belongs inside one of the \"schemes\"")]
    [InlineData("""{ }""", "$.pipeline[0].config", "no scheme")]
    [InlineData("""{ "scheme": "basic", "users": [ { "user": "a", "pbkdf2": "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } ] }""", "$.pipeline[0].config.users[0].pbkdf2", "at least 100000 iterations")]
    [InlineData("""{ "scheme": "jwt", "audiences": ["a"], "algorithms": ["RS256"], "jwksUrl": "https://x.test/jwks" }""", "$.pipeline[0].config.issuers", "at least one issuer")]
    [InlineData("""{ "scheme": "jwt", "issuers": ["i"], "audiences": ["a"], "algorithms": ["none"], "jwksUrl": "https://x.test/jwks" }""", "$.pipeline[0].config.algorithms[0]", "'none' is not one of")]
    [InlineData("""{ "scheme": "jwt", "issuers": ["i"], "audiences": ["a"], "algorithms": ["HS256"], "signingKeys": [ { "secret": "too short" } ] }""", "$.pipeline[0].config.signingKeys[0].secret", "at least 32 bytes")]
    public async Task Config_Invalid_RejectsTheReloadNamingTheField(string config, string path, string message)
    {
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", _origin)
            .FirstPartyPlugin("Auth")
            .StartAsync();
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "Auth", "config": {{config}} } ] }""");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal(path, (string?)error["path"]);
        Assert.Contains(message, (string?)error["message"]);
    }

    /// <summary>A real Kestrel serving a JWKS document whose keys the test can rotate.</summary>
    private sealed class JwksServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private volatile string _document = "{}";
        private int _fetches;

        private JwksServer(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public int Fetches => Volatile.Read(ref _fetches);

        public static async Task<JwksServer> StartAsync(RsaSecurityKey key)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new JwksServer(app);
            server.Publish(key);
            app.MapGet("/jwks.json", () =>
            {
                Interlocked.Increment(ref server._fetches);
                return Results.Text(server._document, "application/json");
            });
            await app.StartAsync();
            server.Url = app.Urls.Single() + "/jwks.json";
            return server;
        }

        public void Publish(RsaSecurityKey key) => _document = new JsonObject { ["keys"] = new JsonArray(AuthTokens.PublicJwk(key)) }.ToJsonString();

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

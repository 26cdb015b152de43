using System.Net;
using System.Text.Json.Nodes;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Tls;

/// <summary>A route's HTTPS rules: plain HTTP redirected to HTTPS, and Strict-Transport-Security on what it answers over HTTPS.</summary>
public sealed class RouteHttpsTests : IAsyncLifetime, IDisposable
{
    private const string Hsts = "max-age=31536000; includeSubDomains";

    private readonly TestCertificates _ca = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-tls-").FullName;
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1", respond: (context, _) =>
    {
        context.Response.Headers.StrictTransportSecurity = "max-age=60";
        return context.Response.WriteAsync("ok");
    });

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<Listeners> GatewayAsync(params string[] args)
    {
        using var certificate = _ca.Issue("gateway.test");
        var (certificatePath, keyPath) = TestCertificates.WritePem(certificate, _folder, "gateway");
        var plainPort = LoopbackPorts.Free();
        var gateway = await TestGateway.Create()
            .Route("secure", "/secure/{**rest}", "backend", route => route["Metadata"] = new JsonObject { ["HttpsRedirect"] = "true", ["Hsts"] = Hsts })
            .Route("open", "/open/{**rest}", "backend", route => route["Metadata"] = new JsonObject { ["Hsts"] = Hsts })
            .Route("down", "/down/{**rest}", "nowhere", route => route["Metadata"] = new JsonObject { ["Hsts"] = Hsts })
            .Cluster("backend", _origin)
            .Cluster("nowhere", LoopbackPorts.RefusingUrl())
            .Args(
            [
                "--Kestrel:Endpoints:Proxy:Url=https://127.0.0.1:0",
                $"--Kestrel:Endpoints:Proxy:Certificate:Path={certificatePath}",
                $"--Kestrel:Endpoints:Proxy:Certificate:KeyPath={keyPath}",
                $"--Kestrel:Endpoints:Plain:Url=http://127.0.0.1:{plainPort}",
                .. args,
            ])
            .StartAsync();
        var https = TlsClient.Trusting(_ca.Authority, gateway.Services.GetRequiredService<GatewayListeners>().ProxyPort);
        var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{plainPort}/") };
        return new Listeners(gateway, https, plain);
    }

    /// <summary>A gateway with its HTTPS proxy listener and a plain HTTP one, and a client of each.</summary>
    private sealed record Listeners(TestGateway Gateway, HttpClient Https, HttpClient Plain) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Https.Dispose();
            Plain.Dispose();
            await Gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task PlainHttp_OnARedirectingRoute_Gets308ToTheSameUrlOverHttps_ForAnyMethod_WithoutReachingTheOrigin()
    {
        await using var listeners = await GatewayAsync();
        var (gateway, https, plain) = listeners;
        var port = gateway.Services.GetRequiredService<GatewayListeners>().ProxyPort;

        using var get = await plain.GetAsync("secure/a%20b?c=1");
        using var post = await plain.PostAsync("secure/form", new StringContent("x"));
        using var open = await plain.GetAsync("open/a");

        Assert.Equal(HttpStatusCode.PermanentRedirect, get.StatusCode);
        Assert.Equal($"https://127.0.0.1:{port}/secure/a%20b?c=1", get.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.PermanentRedirect, post.StatusCode);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.Equal(1, _origin.Requests);
    }

    [Theory]
    [InlineData("8443", "https://127.0.0.1:8443/secure/x")]
    [InlineData("443", "https://127.0.0.1/secure/x")]
    public async Task TheRedirectPort_IsConfigurable(string port, string location)
    {
        await using var listeners = await GatewayAsync($"--Gateway:HttpsPort={port}");

        using var response = await listeners.Plain.GetAsync("secure/x");

        Assert.Equal(location, response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task OverHttps_TheRoutesHstsValue_ReplacesTheOrigins_AndIsOnTheGatewaysOwnErrors_ButNeverOverPlainHttp()
    {
        await using var listeners = await GatewayAsync();
        var (_, https, plain) = listeners;

        using var secure = await https.GetAsync("secure/x");
        using var failed = await https.GetAsync("down/x");
        using var overPlain = await plain.GetAsync("down/x");

        Assert.Equal(HttpStatusCode.OK, secure.StatusCode);
        Assert.Equal(Hsts, string.Join(",", secure.Headers.GetValues("Strict-Transport-Security")));
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal(Hsts, string.Join(",", failed.Headers.GetValues("Strict-Transport-Security")));
        Assert.Equal(HttpStatusCode.BadGateway, overPlain.StatusCode);
        Assert.False(overPlain.Headers.Contains("Strict-Transport-Security"));
    }

    [Theory]
    [InlineData("Hsts", "includeSubDomains")]
    [InlineData("HttpsRedirect", "yes")]
    public async Task AValueThatCannotBeUsed_IsRefused_NamingTheSetting(string key, string value)
    {
        var refused = await Assert.ThrowsAsync<GatewayStartException>(() => TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend", route => route["Metadata"] = new JsonObject { [key] = value })
            .Cluster("backend", _origin)
            .StartAsync());

        Assert.Contains($"Routes:api:Metadata:{key}", refused.Message, StringComparison.Ordinal);
    }
}

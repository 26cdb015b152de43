using System.Net;
using System.Security.Authentication;
using Gateway.Hosting;
using Gateway.Tls;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Tls;

/// <summary>
/// HTTPS on the proxy listener from Kestrel's own endpoint settings: PEM and PFX files, certificates per server name,
/// HTTP/2 and HTTP/1.1 by ALPN, TLS 1.2 at least, and certificates replaced on disk served from the next handshake
/// without a restart, a rebind or a dropped connection. Certificates come from a throwaway CA made by the test.
/// </summary>
public sealed class ListenerTlsTests : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates _ca = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-tls-").FullName;
    private readonly ArmingClock _clock = new();
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private Task<TestGateway> GatewayAsync(params string[] args) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .Arg("--Kestrel:Endpoints:Proxy:Url=https://127.0.0.1:0")
        .Args(args)
        .Time(_clock)
        .StartAsync();

    /// <summary>
    /// Each time a change to the certificate files arms the watcher's settle timer, moves the clock past it, until the
    /// line the change should bring is logged: a renewal's several writes may arm it several times.
    /// </summary>
    private async Task SettleUntilAsync(TestGateway gateway, int armedBefore, Func<LogLine, bool> logged)
    {
        var seen = gateway.Logs.WaitForAsync(logged);
        for (var armed = armedBefore; !seen.IsCompleted;)
        {
            await Task.WhenAny(seen, _clock.ArmedAsync(ListenerCertificates.Settle, armed + 1)).WaitAsync(TimeSpan.FromSeconds(30));
            armed = _clock.Armed(ListenerCertificates.Settle);
            _clock.Advance(ListenerCertificates.Settle);
        }
    }

    private string[] Pem(string name, string prefix = "--Kestrel:Endpoints:Proxy:Certificate")
    {
        using var certificate = _ca.Issue(name);
        var (certificatePath, keyPath) = TestCertificates.WritePem(certificate, _folder, name);
        return [$"{prefix}:Path={certificatePath}", $"{prefix}:KeyPath={keyPath}"];
    }

    private static int Port(TestGateway gateway) => gateway.Services.GetRequiredService<GatewayListeners>().ProxyPort;

    [Fact]
    public async Task APemCertificate_ServesHttps_Http2OrHttp11ByAlpn_Tls12Or13()
    {
        await using var gateway = await GatewayAsync(Pem("gateway.test"));
        var port = Port(gateway);
        using var client = TlsClient.Trusting(_ca.Authority, port);

        using var http2 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "api/x") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact });
        using var http11 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "api/x") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact });
        var both = await TlsClient.HandshakeAsync(port, alpn: ["h2", "http/1.1"]);
        var tls12 = await TlsClient.HandshakeAsync(port, versions: SslProtocols.Tls12);
        var tls13 = await TlsClient.HandshakeAsync(port, versions: SslProtocols.Tls13);

        Assert.Equal(HttpStatusCode.OK, http2.StatusCode);
        Assert.Equal(HttpVersion.Version20, http2.Version);
        Assert.Equal(HttpStatusCode.OK, http11.StatusCode);
        Assert.Equal(HttpVersion.Version11, http11.Version);
        Assert.Equal("h2", both.Alpn);
        Assert.Equal("CN=gateway.test", both.Certificate.Subject);
        Assert.Equal(SslProtocols.Tls12, tls12.Version);
        Assert.Equal(SslProtocols.Tls13, tls13.Version);
        Assert.Contains(gateway.Logs.Lines, line => line.EventId == 1 && line.Message.Contains($"https://127.0.0.1:{port}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APasswordProtectedPfx_Serves()
    {
        using var certificate = _ca.Issue("pfx.test");
        var path = TestCertificates.WritePfx(certificate, _folder, "pfx", "s3cret");
        await using var gateway = await GatewayAsync($"--Kestrel:Endpoints:Proxy:Certificate:Path={path}", "--Kestrel:Endpoints:Proxy:Certificate:Password=s3cret");

        var handshake = await TlsClient.HandshakeAsync(Port(gateway));

        Assert.Equal(certificate.Thumbprint, handshake.Certificate.Thumbprint);
    }

    [Fact]
    public async Task ServerNames_PickTheirCertificate_TheExactName_ThenTheLongestWildcard_ThenAny()
    {
        await using var gateway = await GatewayAsync(
        [
            .. Pem("a.example.test", "--Kestrel:Endpoints:Proxy:Sni:a.example.test:Certificate"),
            .. Pem("wild.example.test", "--Kestrel:Endpoints:Proxy:Sni:*.example.test:Certificate"),
            .. Pem("any.test", "--Kestrel:Endpoints:Proxy:Sni:*:Certificate"),
            "--Kestrel:Endpoints:Proxy:Sni:a.example.test:Protocols=Http1",
        ]);
        var port = Port(gateway);

        var exact = await TlsClient.HandshakeAsync(port, "A.Example.Test", alpn: ["h2", "http/1.1"]);
        var wildcard = await TlsClient.HandshakeAsync(port, "b.example.test", alpn: ["h2", "http/1.1"]);
        var any = await TlsClient.HandshakeAsync(port, "elsewhere.test");

        Assert.Equal("CN=a.example.test", exact.Certificate.Subject);
        Assert.Equal("http/1.1", exact.Alpn);
        Assert.Equal("CN=wild.example.test", wildcard.Certificate.Subject);
        Assert.Equal("h2", wildcard.Alpn);
        Assert.Equal("CN=any.test", any.Certificate.Subject);
    }

    [Fact]
    public async Task ServerNames_WithoutAnEntryThatMatches_AreRefused()
    {
        await using var gateway = await GatewayAsync(Pem("a.example.test", "--Kestrel:Endpoints:Proxy:Sni:a.example.test:Certificate"));

        await Assert.ThrowsAnyAsync<Exception>(() => TlsClient.HandshakeAsync(Port(gateway), "elsewhere.test"));
        Assert.Equal("CN=a.example.test", (await TlsClient.HandshakeAsync(Port(gateway), "a.example.test")).Certificate.Subject);
    }

    [Fact]
    public async Task ReplacedFiles_AreServedFromTheNextHandshake_OnTheSameListener_WithoutDroppingAConnection()
    {
        await using var gateway = await GatewayAsync(Pem("gateway.test"));
        var port = Port(gateway);
        var connections = 0;
        using var client = TlsClient.Trusting(_ca.Authority, port, () => Interlocked.Increment(ref connections));
        using var before = await client.GetAsync("api/x");
        var first = await TlsClient.HandshakeAsync(port);

        using var renewed = _ca.Issue("gateway.test");
        var armed = _clock.Armed(ListenerCertificates.Settle);
        TestCertificates.WritePem(renewed, _folder, "gateway.test");
        await SettleUntilAsync(gateway, armed, line => line.EventId == 4 && line.Message.Contains(renewed.Thumbprint, StringComparison.Ordinal));
        var second = await TlsClient.HandshakeAsync(port);
        using var after = await client.GetAsync("api/x");

        Assert.NotEqual(renewed.Thumbprint, first.Certificate.Thumbprint);
        Assert.Equal(renewed.Thumbprint, second.Certificate.Thumbprint);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(1, connections);
        Assert.Equal(port, Port(gateway));
    }

    [Fact]
    public async Task FilesThatCannotBeUsed_KeepThePreviousCertificate_UntilGoodOnesArrive()
    {
        await using var gateway = await GatewayAsync(Pem("gateway.test"));
        var port = Port(gateway);
        var serving = (await TlsClient.HandshakeAsync(port)).Certificate.Thumbprint;
        using var other = _ca.Issue("other.test");

        // A certificate whose key is not the one beside it: the state between a renewal's two writes.
        var armed = _clock.Armed(ListenerCertificates.Settle);
        File.WriteAllText(Path.Combine(_folder, "gateway.test.crt"), other.ExportCertificatePem());
        await SettleUntilAsync(gateway, armed, line => line.EventId == 5 && line.Level == LogLevel.Warning);
        var kept = await TlsClient.HandshakeAsync(port);
        armed = _clock.Armed(ListenerCertificates.Settle);
        TestCertificates.WritePem(other, _folder, "gateway.test");
        await SettleUntilAsync(gateway, armed, line => line.EventId == 4 && line.Message.Contains(other.Thumbprint, StringComparison.Ordinal));
        var replaced = await TlsClient.HandshakeAsync(port);

        Assert.Equal(serving, kept.Certificate.Thumbprint);
        Assert.Equal(other.Thumbprint, replaced.Certificate.Thumbprint);
    }

    [Theory]
    [InlineData("--Kestrel:Endpoints:Proxy:SslProtocols:0=Tls11", "older than 1.2")]
    [InlineData("--Kestrel:Endpoints:Proxy:Sni:a.test:Protocols=Http7", "Kestrel:Endpoints:Proxy:Sni:a.test:Protocols")]
    public async Task UnusableSettings_FailTheStart_NamingThem(string setting, string named)
    {
        var refused = await Assert.ThrowsAsync<GatewayStartException>(() => GatewayAsync([.. Pem("gateway.test"), setting]));

        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnHttpsListenerWithoutACertificate_FailsTheStart_SayingWhatToSet()
    {
        var refused = await Assert.ThrowsAsync<GatewayStartException>(() => GatewayAsync());

        Assert.Contains("Kestrel:Endpoints:Proxy:Certificate:Path", refused.Message, StringComparison.Ordinal);
    }
}

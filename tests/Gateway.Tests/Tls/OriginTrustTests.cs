using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Tls;

/// <summary>
/// Origins over HTTPS whose certificates the system does not trust: a cluster trusts a CA file, or pins its origins'
/// keys, and every other certificate is refused with a 502.
/// </summary>
public sealed class OriginTrustTests : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates _ca = new();
    private readonly TestCertificates _otherCa = new("Another CA");
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-tls-").FullName;
    private X509Certificate2 _originCertificate = null!;
    private WebApplication _origin = null!;
    private string _originUrl = "";

    public async Task InitializeAsync()
    {
        _originCertificate = _ca.Issue("origin.test");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(_originCertificate)));
        _origin = builder.Build();
        _origin.Run(context => context.Response.WriteAsync("from the https origin"));
        await _origin.StartAsync();
        _originUrl = _origin.Urls.Single() + "/";
    }

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    public void Dispose()
    {
        _originCertificate.Dispose();
        _ca.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private string CaFile(TestCertificates authority, string name)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, authority.Authority.ExportCertificatePem());
        return path;
    }

    private Task<TestGateway> GatewayAsync(JsonObject? metadata) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _originUrl)
        .ConfigureCluster("backend", cluster => cluster["Metadata"] = metadata)
        .StartAsync();

    private async Task<HttpStatusCode> StatusAsync(JsonObject? metadata)
    {
        await using var gateway = await GatewayAsync(metadata);
        using var response = await gateway.Proxy.GetAsync("api/x");
        return response.StatusCode;
    }

    [Fact]
    public async Task ACertificateTheSystemDoesNotTrust_IsRefused() =>
        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(null));

    [Fact]
    public async Task TheClustersCaFile_IsTrusted_AndOnlyIt()
    {
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(new JsonObject { ["TrustedCaFile"] = CaFile(_ca, "ca.pem") }));
        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(new JsonObject { ["TrustedCaFile"] = CaFile(_otherCa, "other.pem") }));
    }

    [Fact]
    public async Task APinnedKey_IsTrusted_WithoutAChain_AndAnotherKeyIsNot()
    {
        using var unrelated = _otherCa.Issue("origin.test");
        var pin = TestCertificates.PublicKeyPin(_originCertificate);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(new JsonObject { ["PinnedPublicKeys"] = $"{TestCertificates.PublicKeyPin(unrelated)}, {pin}" }));
        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(new JsonObject { ["PinnedPublicKeys"] = TestCertificates.PublicKeyPin(unrelated) }));
        // Both: the chain must hold and the key must match.
        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(new JsonObject { ["PinnedPublicKeys"] = pin, ["TrustedCaFile"] = CaFile(_otherCa, "other.pem") }));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(new JsonObject { ["PinnedPublicKeys"] = pin, ["TrustedCaFile"] = CaFile(_ca, "ca.pem") }));
    }

    [Fact]
    public async Task ChangedTrust_ReachesTheClusterAtTheReload_NotAnOldClient()
    {
        await using var gateway = await GatewayAsync(new JsonObject { ["PinnedPublicKeys"] = TestCertificates.PublicKeyPin(_originCertificate) });
        using var before = await gateway.Proxy.GetAsync("api/x");
        var settings = Path.Combine(gateway.Directory, "appsettings.json");
        var json = JsonNode.Parse(File.ReadAllText(settings))!;
        using var unrelated = _otherCa.Issue("origin.test");
        json["ReverseProxy"]!["Clusters"]!["backend"]!["Metadata"] = new JsonObject { ["PinnedPublicKeys"] = TestCertificates.PublicKeyPin(unrelated) };
        File.WriteAllText(settings, json.ToJsonString());

        await gateway.ReloadOkAsync();
        using var after = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, after.StatusCode);
    }

    [Theory]
    [InlineData("TrustedCaFile", "/nonexistent/ca.pem", "cannot read")]
    [InlineData("PinnedPublicKeys", "not-a-hash", "not a base64 SHA-256")]
    public async Task ValuesThatCannotBeUsed_AreRefused_NamingTheSetting(string key, string value, string why)
    {
        var refused = await Assert.ThrowsAsync<GatewayStartException>(() => GatewayAsync(new JsonObject { [key] = value }));

        Assert.Contains($"Clusters:backend:Metadata:{key}", refused.Message, StringComparison.Ordinal);
        Assert.Contains(why, refused.Message, StringComparison.Ordinal);
    }
}

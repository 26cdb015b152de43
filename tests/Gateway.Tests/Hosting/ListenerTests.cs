using System.Net;
using System.Net.Sockets;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>The admin API answers on the admin listener's connections only, whatever port the proxy shares with it.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task AdminAndProxyOnOnePortAtTwoAddresses_AreToldApartByListener()
    {
        await using var origin = await TestOrigin.StartAsync("d1");
        var port = PortFreeOnBothLoopbacks();
        await using var gateway = await TestGateway.Create()
            .Route("all", "{**rest}", "backend")
            .Cluster("backend", origin)
            .Arg($"--Kestrel:Endpoints:Proxy:Url=http://[::1]:{port}")
            .Arg($"--Kestrel:Endpoints:Admin:Url=http://127.0.0.1:{port}")
            .StartAsync();
        using var proxy = new HttpClient { BaseAddress = new Uri($"http://[::1]:{port}/") };

        using var adminOnProxy = await Send(proxy, "admin/pipeline");
        using var healthOnProxy = await Send(proxy, "healthz");
        using var admin = await Send(gateway.Admin, "admin/pipeline");

        Assert.Equal("d1", (await OriginEcho.ReadAsync(adminOnProxy)).Origin);
        Assert.Equal("d1", (await OriginEcho.ReadAsync(healthOnProxy)).Origin);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("\"generation\"", await admin.Content.ReadAsStringAsync());
        Assert.Equal(2, origin.Requests);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{0}", "http://127.0.0.1:{0}")]
    [InlineData("http://0.0.0.0:{0}", "http://127.0.0.1:{0}")]
    [InlineData("http://*:{0}", "http://[::1]:{0}")]
    [InlineData("http://localhost:{0}", "http://127.0.0.1:{0}")]
    public async Task ListenersThatCouldShareConnections_AreRefusedAtStart(string proxyUrl, string adminUrl)
    {
        var port = PortFreeOnBothLoopbacks();

        var refused = await Assert.ThrowsAsync<GatewayStartException>(() => TestGateway.Create()
            .Route("all", "{**rest}", "backend")
            .Arg("--Kestrel:Endpoints:Proxy:Url=" + string.Format(proxyUrl, port))
            .Arg("--Kestrel:Endpoints:Admin:Url=" + string.Format(adminUrl, port))
            .StartAsync());

        Assert.Contains("could accept the same connections", refused.Message);
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", TestGateway.AdminKey);
        return client.SendAsync(request);
    }

    // A port nothing listens on at 127.0.0.1 or at ::1 right now.
    private static int PortFreeOnBothLoopbacks()
    {
        for (var attempt = 0; ; attempt++)
        {
            var v4 = new TcpListener(IPAddress.Loopback, 0);
            v4.Start();
            var port = ((IPEndPoint)v4.LocalEndpoint).Port;
            try
            {
                var v6 = new TcpListener(IPAddress.IPv6Loopback, port);
                v6.Start();
                v6.Stop();
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
            finally
            {
                v4.Stop();
            }
        }
    }
}

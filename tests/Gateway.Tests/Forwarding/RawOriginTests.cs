using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Forwarding;

/// <summary>What origins send that Kestrel-based origins cannot: raw bytes on the wire, answered the same whatever asked.</summary>
public sealed class RawOriginTests
{
    /// <summary>
    /// RFC 9110 §5.5: a field value may carry obs-text (bytes 0x80–0xFF), which a recipient treats as opaque data. An
    /// origin's such header must not cost the client its response.
    /// </summary>
    [Fact]
    public async Task AResponseHeaderWithObsText_IsPassedThroughByteForByte()
    {
        using var origin = new RawOrigin(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-name: caf\u00e9\r\nConnection: close\r\n\r\nok"));
        await using var gateway = await GatewayAsync(origin);

        using var client = new HttpClient(new SocketsHttpHandler { ResponseHeaderEncodingSelector = (_, _) => Encoding.Latin1 })
        {
            BaseAddress = gateway.Proxy.BaseAddress,
        };
        using var response = await client.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("caf\u00e9", response.Headers.GetValues("x-name").Single());
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// RFC 9110 §15.2: informational responses. The forwarder's client reads past a 103 Early Hints to the final
    /// response, and ASP.NET Core has no way to send a 1xx (dotnet/aspnetcore#27851), so a 103 is not relayed; it
    /// must neither fail the request nor leak its fields into the final answer, nor be stored.
    /// </summary>
    [Fact]
    public async Task EarlyHints_AreNotRelayedNorStored_AndTheFinalResponseIsServedAndCached()
    {
        using var origin = new RawOrigin(Encoding.Latin1.GetBytes(
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: max-age=60\r\nConnection: close\r\n\r\nfinal"));
        await using var gateway = await GatewayAsync(origin, cached: true);

        using var miss = await gateway.Proxy.GetAsync("api/x");
        using var hit = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal((HttpStatusCode.OK, "final", "MISS"), (miss.StatusCode, await miss.Content.ReadAsStringAsync(), miss.Headers.GetValues("X-Cache").Single()));
        Assert.False(miss.Headers.Contains("Link"));
        Assert.Equal((HttpStatusCode.OK, "final", "HIT"), (hit.StatusCode, await hit.Content.ReadAsStringAsync(), hit.Headers.GetValues("X-Cache").Single()));
        Assert.Equal(1, origin.Connections);
    }

    /// <summary>Expect: 100-continue: the gateway's own server answers 100 Continue as it starts reading the body to forward.</summary>
    [Fact]
    public async Task ExpectContinue_BodyIsForwarded()
    {
        await using var origin = await TestOrigin.StartAsync("d1", respond: async (context, _) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync("got " + await reader.ReadToEndAsync());
        });
        await using var gateway = await TestGateway.Create().Route("api", "/api/{**rest}", "backend").Cluster("backend", origin).StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/x") { Content = new StringContent("a body") };
        request.Headers.ExpectContinue = true;

        using var response = await gateway.Proxy.SendAsync(request);

        Assert.Equal((HttpStatusCode.OK, "got a body"), (response.StatusCode, await response.Content.ReadAsStringAsync()));
    }

    private static Task<TestGateway> GatewayAsync(RawOrigin origin, bool cached = false)
    {
        origin.Start();
        var builder = TestGateway.Create().Route("api", "/api/{**rest}", "backend").Cluster("backend", origin.Url);
        return (cached ? builder.FirstPartyPlugin("Caching").Pipeline("""{ "pipeline": [ { "plugin": "Caching" } ] }""") : builder).StartAsync();
    }

    /// <summary>An origin that answers every connection with the same bytes, whatever it was asked.</summary>
    private sealed class RawOrigin(byte[] answer) : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _connections;

        /// <summary>Connections accepted so far.</summary>
        public int Connections => Volatile.Read(ref _connections);

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

        public void Start()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                var buffer = new byte[8192];
                var received = new StringBuilder();
                while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (n == 0)
                    {
                        break;
                    }
                    received.Append(Encoding.Latin1.GetString(buffer, 0, n));
                }
                await socket.SendAsync(answer, _stop.Token);
                socket.Shutdown(SocketShutdown.Both);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}

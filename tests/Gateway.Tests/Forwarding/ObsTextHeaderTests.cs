using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Forwarding;

/// <summary>
/// RFC 9110 §5.5: a field value may carry obs-text (bytes 0x80–0xFF), which a recipient treats as opaque data. An
/// origin's such header must not cost the client its response.
/// </summary>
public sealed class ObsTextHeaderTests
{
    [Fact]
    public async Task AResponseHeaderWithObsText_IsPassedThroughByteForByte()
    {
        using var origin = new RawOrigin(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-name: caf\u00e9\r\nConnection: close\r\n\r\nok"));
        origin.Start();
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", origin.Url)
            .StartAsync();

        using var client = new HttpClient(new SocketsHttpHandler { ResponseHeaderEncodingSelector = (_, _) => Encoding.Latin1 })
        {
            BaseAddress = gateway.Proxy.BaseAddress,
        };
        using var response = await client.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("caf\u00e9", response.Headers.GetValues("x-name").Single());
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    /// <summary>An origin that answers every connection with the same bytes, whatever it was asked.</summary>
    private sealed class RawOrigin(byte[] answer) : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

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

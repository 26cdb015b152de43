using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Tls;

/// <summary>What a TLS handshake with a listener showed: its certificate, the protocol ALPN chose and the TLS version.</summary>
internal sealed record Handshake(X509Certificate2 Certificate, string Alpn, SslProtocols Version);

/// <summary>Clients of an HTTPS listener on 127.0.0.1.</summary>
internal static class TlsClient
{
    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and completes a handshake, accepting any certificate so the test can look at it.</summary>
    public static async Task<Handshake> HandshakeAsync(int port, string serverName = "localhost", SslProtocols versions = SslProtocols.None, params string[] alpn)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            EnabledSslProtocols = versions,
            ApplicationProtocols = alpn.Length == 0 ? null : [.. alpn.Select(protocol => new SslApplicationProtocol(protocol))],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        return new Handshake(new X509Certificate2(tls.RemoteCertificate!), tls.NegotiatedApplicationProtocol.ToString(), tls.SslProtocol);
    }

    /// <summary>A client that trusts only <paramref name="authority"/> and counts the connections it opens.</summary>
    public static HttpClient Trusting(X509Certificate2 authority, int port, Action? connected = null)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { authority },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
            ConnectCallback = async (context, cancellationToken) =>
            {
                connected?.Invoke();
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}/") };
    }
}

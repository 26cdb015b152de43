using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gateway.Tls;

/// <summary>
/// What a TLS handshake is answered with, for a listener or one of its server names: the certificate, the TLS versions,
/// the ALPN protocols and the client certificate rule. Built once per certificate and shared by every handshake; a
/// certificate read again from its files replaces it whole, so a handshake sees the old one or the new one.
/// </summary>
internal sealed class HandshakeOptions
{
    /// <summary>What a listener offers when its configuration does not say: TLS 1.2 and 1.3, never anything older.</summary>
    public const SslProtocols DefaultProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly SslProtocols _protocols;
    private readonly List<SslApplicationProtocol> _alpn;
    private readonly ClientCertificateMode _clientCertificates;
    private readonly bool _checkRevocation;
    private SslServerAuthenticationOptions _current;

    public HandshakeOptions(string name, CertificateFiles? files, ServerCertificate certificate, SslProtocols protocols, HttpProtocols httpProtocols,
        ClientCertificateMode clientCertificates, bool checkRevocation)
    {
        Name = name;
        Files = files;
        _protocols = protocols;
        _alpn = Alpn(httpProtocols);
        _clientCertificates = clientCertificates;
        _checkRevocation = checkRevocation;
        _current = Build(certificate);
    }

    /// <summary>The listener, and the server name when it is one of its <c>Sni</c> entries.</summary>
    public string Name { get; }

    /// <summary>Where the certificate is read again from when its files change; null for one Kestrel loaded (a store's).</summary>
    public CertificateFiles? Files { get; }

    public SslServerAuthenticationOptions Current => Volatile.Read(ref _current);

    public X509Certificate2 Certificate => Current.ServerCertificateContext!.TargetCertificate;

    /// <summary>The client may send its certificate later, when a request asks for it (HTTP/1.1 only).</summary>
    public bool DelaysClientCertificate => _clientCertificates == ClientCertificateMode.DelayCertificate;

    /// <summary>Serves <paramref name="certificate"/> from the next handshake on.</summary>
    /// <returns>False when it is the certificate already served.</returns>
    public bool Replace(ServerCertificate certificate)
    {
        if (certificate.Leaf.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span))
        {
            return false;
        }
        Volatile.Write(ref _current, Build(certificate));
        return true;
    }

    private SslServerAuthenticationOptions Build(ServerCertificate certificate) => new()
    {
        ServerCertificateContext = certificate.Context,
        EnabledSslProtocols = _protocols,
        ApplicationProtocols = _alpn,
        // RFC 9113 §9.2.1: no renegotiation on HTTP/2; nothing the gateway serves needs it on HTTP/1.1 either.
        AllowRenegotiation = false,
        ClientCertificateRequired = _clientCertificates is ClientCertificateMode.AllowCertificate or ClientCertificateMode.RequireCertificate,
        RemoteCertificateValidationCallback = _clientCertificates == ClientCertificateMode.NoCertificate ? null : AcceptsClientCertificate,
        CertificateRevocationCheckMode = _checkRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
    };

    // Kestrel's rule: no certificate is fine unless one is required; one that is sent must validate.
    private bool AcceptsClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is null ? _clientCertificates != ClientCertificateMode.RequireCertificate : errors == SslPolicyErrors.None;

    // The order is the server's preference: HTTP/2 when the client offers both.
    private static List<SslApplicationProtocol> Alpn(HttpProtocols protocols)
    {
        var alpn = new List<SslApplicationProtocol>(2);
        if ((protocols & HttpProtocols.Http2) != 0)
        {
            alpn.Add(SslApplicationProtocol.Http2);
        }
        if ((protocols & HttpProtocols.Http1) != 0)
        {
            alpn.Add(SslApplicationProtocol.Http11);
        }
        return alpn;
    }
}

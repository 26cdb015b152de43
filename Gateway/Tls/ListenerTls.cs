using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gateway.Tls;

/// <summary>
/// One HTTPS listener's handshakes, from Kestrel's own endpoint configuration (<c>Certificate</c>, <c>SslProtocols</c>,
/// <c>Protocols</c>, <c>ClientCertificateMode</c>, and per server name the same under <c>Sni</c>), answered by the
/// gateway rather than by Kestrel's loader so that a certificate can be replaced without rebinding the listener:
/// Kestrel's own reload stops the endpoint, closing every connection and refusing new ones until it binds again.
/// </summary>
/// <remarks>
/// Server names are matched as Kestrel matches them: the exact name, then the longest <c>*.suffix</c>, then <c>*</c>;
/// a listener with <c>Sni</c> entries refuses a name none of them match.
/// </remarks>
internal sealed class ListenerTls
{
    private readonly HandshakeOptions? _listener;
    private readonly FrozenDictionary<string, HandshakeOptions> _exact;
    private readonly (string Suffix, HandshakeOptions Options)[] _wildcards;
    private readonly HandshakeOptions? _any;

    private ListenerTls(HandshakeOptions? listener, FrozenDictionary<string, HandshakeOptions> exact, (string, HandshakeOptions)[] wildcards, HandshakeOptions? any)
    {
        _listener = listener;
        _exact = exact;
        _wildcards = wildcards;
        _any = any;
    }

    /// <summary>Every set of options, the listener's and each server name's.</summary>
    public IEnumerable<HandshakeOptions> All =>
        new[] { _listener, _any }.OfType<HandshakeOptions>().Concat(_exact.Values).Concat(_wildcards.Select(wildcard => wildcard.Options));

    /// <summary>For <see cref="TlsHandshakeCallbackOptions.OnConnection"/>, with the listener as its state.</summary>
    public static ValueTask<SslServerAuthenticationOptions> OnConnectionAsync(TlsHandshakeCallbackContext context)
    {
        var options = ((ListenerTls)context.State!).Select(context.ClientHelloInfo.ServerName)
            ?? throw new AuthenticationException($"no certificate is configured for the server name '{context.ClientHelloInfo.ServerName}'");
        context.AllowDelayedClientCertificateNegotation = options.DelaysClientCertificate;
        return ValueTask.FromResult(options.Current);
    }

    /// <summary>The options for a client hello's server name (empty when the client sent none).</summary>
    public HandshakeOptions? Select(string serverName)
    {
        if (_exact.Count == 0 && _wildcards.Length == 0 && _any is null)
        {
            return _listener;
        }
        if (_exact.TryGetValue(serverName, out var exact))
        {
            return exact;
        }
        foreach (var (suffix, options) in _wildcards)
        {
            if (serverName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return options;
            }
        }
        return _any;
    }

    /// <summary>Reads the endpoint's TLS settings and loads its certificates.</summary>
    /// <exception cref="InvalidOperationException">A setting is wrong or a certificate cannot be used; the message names it.</exception>
    public static ListenerTls Create(string endpointName, EndpointConfiguration endpoint, string contentRoot)
    {
        var prefix = $"Kestrel:Endpoints:{endpointName}";
        var https = endpoint.HttpsOptions;
        var protocols = AtLeastTls12(https.SslProtocols, $"{prefix}:SslProtocols (or Kestrel:EndpointDefaults:SslProtocols)");
        var files = CertificateFiles.From(endpoint.ConfigSection.GetSection("Certificate"), contentRoot);
        var certificate = Load(files, $"{prefix}:Certificate")
            ?? (https.ServerCertificate is { } loaded ? ServerCertificate.From(loaded, https.ServerCertificateChain) : null);

        var exact = new Dictionary<string, HandshakeOptions>(StringComparer.OrdinalIgnoreCase);
        var wildcards = new List<(string, HandshakeOptions)>();
        HandshakeOptions? any = null;
        foreach (var sni in endpoint.ConfigSection.GetSection("Sni").GetChildren())
        {
            var name = $"{prefix}:Sni:{sni.Key}";
            var sniFiles = CertificateFiles.From(sni.GetSection("Certificate"), contentRoot);
            var options = new HandshakeOptions(
                $"{endpointName} ({sni.Key})",
                sniFiles ?? files,
                // An entry without a certificate of its own serves the listener's, as in Kestrel.
                (sniFiles is null ? certificate : Load(sniFiles, $"{name}:Certificate")) ?? throw NoCertificate(name),
                sni.GetSection("SslProtocols").Exists() ? AtLeastTls12(ParseList(sni.GetSection("SslProtocols"), $"{name}:SslProtocols"), $"{name}:SslProtocols") : protocols,
                sni["Protocols"] is { } httpProtocols ? Parse<HttpProtocols>(httpProtocols, $"{name}:Protocols") : endpoint.ListenOptions.Protocols,
                sni["ClientCertificateMode"] is { } mode ? Parse<ClientCertificateMode>(mode, $"{name}:ClientCertificateMode") : https.ClientCertificateMode,
                https.CheckCertificateRevocation);
            if (sni.Key == "*")
            {
                any = options;
            }
            else if (sni.Key.StartsWith("*.", StringComparison.Ordinal))
            {
                wildcards.Add((sni.Key[1..], options));
            }
            else
            {
                exact[sni.Key] = options;
            }
        }

        var listener = certificate is null
            ? null
            : new HandshakeOptions(endpointName, files, certificate, protocols, endpoint.ListenOptions.Protocols, https.ClientCertificateMode, https.CheckCertificateRevocation);
        if (listener is null && exact.Count == 0 && wildcards.Count == 0 && any is null)
        {
            throw NoCertificate(prefix);
        }
        return new ListenerTls(listener, exact.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            [.. wildcards.OrderByDescending(wildcard => wildcard.Item1.Length)], any);
    }

    private static ServerCertificate? Load(CertificateFiles? files, string setting)
    {
        try
        {
            return files?.Load();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{setting}: {ex.Message}", ex);
        }
    }

    private static InvalidOperationException NoCertificate(string setting) =>
        new($"{setting} is an https:// endpoint without a certificate: set {setting}:Certificate:Path and :KeyPath (PEM) or :Path and :Password (PFX).");

    // TLS 1.0 and 1.1 are deprecated (RFC 8996); SslProtocols.None leaves the choice to the OS, which may still allow them.
    private static SslProtocols AtLeastTls12(SslProtocols protocols, string setting)
    {
        if (protocols == SslProtocols.None)
        {
            return HandshakeOptions.DefaultProtocols;
        }
#pragma warning disable CS0618, SYSLIB0039 // named to be refused
        if ((protocols & (SslProtocols.Ssl2 | SslProtocols.Ssl3 | SslProtocols.Tls | SslProtocols.Tls11)) != 0)
#pragma warning restore CS0618, SYSLIB0039
        {
            throw new InvalidOperationException($"{setting} allows a TLS version older than 1.2 ({protocols}); the gateway offers TLS 1.2 and 1.3 only.");
        }
        return protocols;
    }

    private static T Parse<T>(string value, string setting) where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new InvalidOperationException($"{setting} is '{value}', not one of {string.Join(", ", Enum.GetNames<T>())}.");

    // Kestrel's form: a list of names, combined.
    private static SslProtocols ParseList(IConfigurationSection list, string setting) =>
        list.GetChildren().Aggregate(SslProtocols.None, (all, item) => all | Parse<SslProtocols>(item.Value ?? "", setting));
}

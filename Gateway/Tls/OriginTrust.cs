using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tls;

/// <summary>
/// Which certificates a cluster's HTTPS origins may present, from its metadata, when the system's trusted roots are
/// not the right judge: <c>"TrustedCaFile": "certs/internal-ca.pem"</c> (PEM; only these roots are trusted for the
/// cluster), and/or <c>"PinnedPublicKeys": "base64,base64"</c> (SHA-256 of the certificate's SubjectPublicKeyInfo, as
/// <c>openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64</c> prints it;
/// the origin's certificate must carry one of these keys). Pins alone trust the key instead of a chain, so a
/// self-signed origin can be pinned; the host name must match in every case.
/// </summary>
internal sealed class OriginTrust
{
    public const string CaFileKey = "TrustedCaFile";
    public const string PinsKey = "PinnedPublicKeys";

    private readonly X509Certificate2Collection? _authorities;
    private readonly FrozenSet<string>? _pins;

    private OriginTrust(X509Certificate2Collection? authorities, FrozenSet<string>? pins)
    {
        _authorities = authorities;
        _pins = pins;
    }

    /// <summary>The cluster's trust, or null when its metadata sets none.</summary>
    /// <exception cref="InvalidOperationException">A value cannot be used; the message says why.</exception>
    public static OriginTrust? From(IReadOnlyDictionary<string, string>? metadata)
    {
        var caFile = metadata?.GetValueOrDefault(CaFileKey);
        var pins = metadata?.GetValueOrDefault(PinsKey);
        return caFile is null && pins is null
            ? null
            : new OriginTrust(caFile is null ? null : ReadAuthorities(caFile), pins is null ? null : ReadPins(pins));
    }

    /// <summary>What is wrong with the cluster's values, for the reload's errors.</summary>
    public static IEnumerable<(string Key, string Problem)> Validate(ClusterConfig cluster)
    {
        var metadata = cluster.Metadata;
        if (metadata?.TryGetValue(CaFileKey, out var caFile) == true && Problem(() => ReadAuthorities(caFile)) is { } caProblem)
        {
            yield return (CaFileKey, caProblem);
        }
        if (metadata?.TryGetValue(PinsKey, out var pins) == true && Problem(() => ReadPins(pins)) is { } pinsProblem)
        {
            yield return (PinsKey, pinsProblem);
        }
        if (cluster.HttpClient?.DangerousAcceptAnyServerCertificate == true && metadata is not null && (metadata.ContainsKey(CaFileKey) || metadata.ContainsKey(PinsKey)))
        {
            yield return (CaFileKey, "cannot be combined with HttpClient:DangerousAcceptAnyServerCertificate, which accepts every certificate");
        }
    }

    /// <summary>Makes the handler check origins' certificates by this trust.</summary>
    public void ApplyTo(SslClientAuthenticationOptions options)
    {
        if (_authorities is not null)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                // As HttpClient by default: private CAs rarely publish revocation lists the gateway could reach.
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(_authorities);
            options.CertificateChainPolicy = policy;
        }
        if (_pins is not null)
        {
            options.RemoteCertificateValidationCallback = Accepts;
        }
    }

    private bool Accepts(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        // With a CA file the chain must hold as well; pins alone stand in for it.
        var forgiven = _authorities is null ? SslPolicyErrors.RemoteCertificateChainErrors : SslPolicyErrors.None;
        return (errors & ~forgiven) == SslPolicyErrors.None && certificate is X509Certificate2 presented
            && _pins!.Contains(Convert.ToBase64String(SHA256.HashData(presented.PublicKey.ExportSubjectPublicKeyInfo())));
    }

    private static X509Certificate2Collection ReadAuthorities(string file)
    {
        var path = GatewayOptions.Resolve(file);
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"cannot read {path}: {ex.Message}", ex);
        }
        return authorities.Count > 0 ? authorities : throw new InvalidOperationException($"{path} holds no PEM certificate");
    }

    private static FrozenSet<string> ReadPins(string value)
    {
        var pins = value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Span<byte> hash = stackalloc byte[48];
        foreach (var pin in pins)
        {
            if (!Convert.TryFromBase64String(pin, hash, out var length) || length != SHA256.HashSizeInBytes)
            {
                throw new InvalidOperationException($"'{pin}' is not a base64 SHA-256 (44 characters)");
            }
        }
        return pins.Length > 0 ? pins.ToFrozenSet(StringComparer.Ordinal) : throw new InvalidOperationException("names no key");
    }

    private static string? Problem(Action read)
    {
        try
        {
            read();
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }
}

using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tls;

/// <summary>
/// A server certificate with its private key and the intermediates sent with it, read from the files Kestrel's
/// endpoint configuration names (<c>Certificate:Path</c>, <c>KeyPath</c>, <c>Password</c>): PEM, or PKCS#12 by its
/// <c>.pfx</c>/<c>.p12</c> extension. The handshake context is built once here, not per connection.
/// </summary>
internal sealed class ServerCertificate
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    private ServerCertificate(X509Certificate2 leaf, X509Certificate2Collection intermediates)
    {
        Leaf = leaf;
        Context = SslStreamCertificateContext.Create(leaf, intermediates);
    }

    public X509Certificate2 Leaf { get; }

    public SslStreamCertificateContext Context { get; }

    /// <summary>A certificate Kestrel has already loaded (a store's, or <c>Kestrel:Certificates:Default</c>).</summary>
    public static ServerCertificate From(X509Certificate2 leaf, X509Certificate2Collection? intermediates) => new(Checked(leaf, leaf.Subject), intermediates ?? []);

    /// <exception cref="InvalidOperationException">The files cannot be read, or are not a server certificate with its key; the message says which.</exception>
    public static ServerCertificate FromFiles(string path, string? keyPath, string? password)
    {
        try
        {
            return IsPkcs12(path) ? FromPkcs12(path, password) : FromPem(path, keyPath, password);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException($"cannot load the certificate {path}{(keyPath is null ? "" : $" with the key {keyPath}")}: {ex.Message}", ex);
        }
    }

    private static bool IsPkcs12(string path) =>
        path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    private static ServerCertificate FromPkcs12(string path, string? password)
    {
        var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
        var leaf = all.FirstOrDefault(certificate => certificate.HasPrivateKey)
            ?? throw new InvalidOperationException($"{path} holds no certificate with a private key");
        all.Remove(leaf);
        return new ServerCertificate(Checked(leaf, path), all);
    }

    private static ServerCertificate FromPem(string path, string? keyPath, string? password)
    {
        var leaf = password is null ? X509Certificate2.CreateFromPemFile(path, keyPath) : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
        if (OperatingSystem.IsWindows())
        {
            // SChannel cannot use an ephemeral key from PEM; a PKCS#12 round trip gives it a persisted one.
            leaf = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        }
        // A full-chain file: the certificates after the first are the intermediates the client needs.
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(path);
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in chain.Skip(1))
        {
            intermediates.Add(certificate);
        }
        return new ServerCertificate(Checked(leaf, path), intermediates);
    }

    private static X509Certificate2 Checked(X509Certificate2 leaf, string source)
    {
        if (!leaf.HasPrivateKey)
        {
            throw new InvalidOperationException($"{source}: the certificate has no private key");
        }
        foreach (var extension in leaf.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usages && usages.EnhancedKeyUsages.Count > 0
                && !usages.EnhancedKeyUsages.Cast<Oid>().Any(usage => usage.Value == ServerAuthentication))
            {
                throw new InvalidOperationException($"{source}: the certificate ({leaf.Subject}) is not for server authentication (its extended key usage lacks 1.3.6.1.5.5.7.3.1)");
            }
        }
        return leaf;
    }
}

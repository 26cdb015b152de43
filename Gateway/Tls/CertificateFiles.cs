namespace Gateway.Tls;

/// <summary>Where a certificate is read from: a <c>Certificate</c> section's <c>Path</c>, <c>KeyPath</c> and <c>Password</c>, resolved.</summary>
internal sealed record CertificateFiles(string Path, string? KeyPath, string? Password)
{
    /// <summary>The section's files, relative paths against the content root as Kestrel resolves them; null when it names none.</summary>
    public static CertificateFiles? From(IConfigurationSection certificate, string contentRoot) =>
        certificate["Path"] is { Length: > 0 } path
            ? new CertificateFiles(
                System.IO.Path.GetFullPath(path, contentRoot),
                certificate["KeyPath"] is { Length: > 0 } keyPath ? System.IO.Path.GetFullPath(keyPath, contentRoot) : null,
                certificate["Password"])
            : null;

    /// <summary>The folders to watch: the files may be replaced, or (as Kubernetes mounts secrets) their folder's links swapped.</summary>
    public IEnumerable<string> Folders => new[] { Path, KeyPath }.OfType<string>().Select(file => System.IO.Path.GetDirectoryName(file)!).Distinct(StringComparer.Ordinal);

    /// <inheritdoc cref="ServerCertificate.FromFiles"/>
    public ServerCertificate Load() => ServerCertificate.FromFiles(Path, KeyPath, Password);
}

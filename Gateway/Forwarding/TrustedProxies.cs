using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Gateway.Forwarding;

/// <summary>
/// The <c>Gateway:ForwardedHeaders</c> section: the proxies in front of the gateway whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are believed. By default none is, so the client address every stage sees is the
/// connection's and no client can choose its own.
/// </summary>
public sealed record TrustedProxies
{
    /// <summary>Addresses of trusted proxies, e.g. <c>10.0.0.5</c>.</summary>
    public string[] KnownProxies { get; init; } = [];

    /// <summary>CIDR ranges of trusted proxies, e.g. <c>10.0.0.0/8</c>.</summary>
    public string[] KnownNetworks { get; init; } = [];

    /// <summary>Whether any proxy is trusted, so the forwarded headers are read at all.</summary>
    public bool Any => KnownProxies.Length > 0 || KnownNetworks.Length > 0;

    /// <summary>
    /// Sets ASP.NET Core's forwarded-headers options to these proxies only (its defaults trust loopback), walking
    /// <c>X-Forwarded-For</c> from the right through every trusted hop: the client is the right-most address that is
    /// not a trusted proxy, and whatever a client wrote to the left of it is ignored.
    /// </summary>
    /// <exception cref="OptionsValidationException">An entry is not an address or a CIDR range.</exception>
    public void ApplyTo(ForwardedHeadersOptions options)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.ForwardLimit = null;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        for (var i = 0; i < KnownProxies.Length; i++)
        {
            options.KnownProxies.Add(IPAddress.TryParse(KnownProxies[i], out var address) && !KnownProxies[i].Contains('/', StringComparison.Ordinal)
                ? address
                : throw Invalid(nameof(KnownProxies), i, KnownProxies[i], "an IP address"));
        }
        for (var i = 0; i < KnownNetworks.Length; i++)
        {
            var entry = KnownNetworks[i];
            var slash = entry.IndexOf('/', StringComparison.Ordinal);
            // IPNetwork clears bits set past the prefix; 10.0.0.1/8 is more likely a typo than a way to write 10.0.0.0/8.
            options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(entry, out var network)
                && slash > 0 && IPAddress.TryParse(entry.AsSpan(0, slash), out var written) && written.Equals(network.BaseAddress)
                ? network
                : throw Invalid(nameof(KnownNetworks), i, entry, "a CIDR range such as 10.0.0.0/8 (no bits set past the prefix)"));
        }
    }

    private static OptionsValidationException Invalid(string setting, int index, string value, string expected) =>
        new(nameof(GatewayOptions), typeof(TrustedProxies), [$"{GatewayOptions.SectionName}:ForwardedHeaders:{setting}:{index}: '{value}' is not {expected}."]);
}

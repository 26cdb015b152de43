using System.Net;

namespace Gateway.Plugins.Gslb;

/// <summary>Client networks mapped to regions; an address's region is that of the most specific network holding it.</summary>
internal sealed class RegionNetworks
{
    private readonly (IPNetwork Network, string Region)[] _networks;

    private RegionNetworks((IPNetwork, string)[] networks) => _networks = networks;

    /// <exception cref="PluginConfigurationException">An entry is not an address or a CIDR range.</exception>
    public static RegionNetworks Parse(IReadOnlyDictionary<string, string> networks, string path)
    {
        var parsed = new List<(IPNetwork, string)>(networks.Count);
        foreach (var (range, region) in networks)
        {
            var text = range.Contains('/', StringComparison.Ordinal) ? range : range + (range.Contains(':', StringComparison.Ordinal) ? "/128" : "/32");
            // A range with host bits set (10.0.0.1/8) is most likely a typo for an address or a narrower range.
            if (!IPNetwork.TryParse(text, out var network) || !network.BaseAddress.Equals(IPAddress.Parse(text.AsSpan(0, text.IndexOf('/', StringComparison.Ordinal)))))
            {
                throw new PluginConfigurationException($"{path}['{range}']", $"'{range}' is not an address or a CIDR range with its host bits zero (10.1.0.0/16, 2001:db8::/32)");
            }
            parsed.Add((network, region));
        }
        // Longest prefix first: the first network holding an address is the most specific one.
        return new RegionNetworks([.. parsed.OrderByDescending(entry => entry.Item1.PrefixLength)]);
    }

    /// <summary>The region of <paramref name="address"/>, or null when no network holds it.</summary>
    public string? RegionOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var (network, region) in _networks)
        {
            if (network.Contains(address))
            {
                return region;
            }
        }
        return null;
    }
}

namespace Gateway.Plugins.Gslb;

/// <summary>The plugin's <c>config</c>: pools of servers (clusters), the client's region, and each region's order of pools.</summary>
public sealed record GslbOptions
{
    /// <summary>
    /// A request field holding the client's region (a country or region code), set by the edge in front of the gateway:
    /// trust it only when that edge overwrites whatever the client sent.
    /// </summary>
    public string? RegionHeader { get; init; }

    /// <summary>Client networks and their regions (<c>"10.1.0.0/16": "eu"</c>), the most specific first; for clients the header does not place.</summary>
    public Dictionary<string, string>? Networks { get; init; }

    /// <summary>Each pool's cluster in <c>ReverseProxy:Clusters</c> (<c>"eu": "api-eu"</c>).</summary>
    public Dictionary<string, string>? Pools { get; init; }

    /// <summary>
    /// Each region's pools, preferred first (<c>"eu": ["eu", "us"]</c>); <c>"*"</c> for any other region or none.
    /// Without <c>"*"</c>, the pools in the order they are listed.
    /// </summary>
    public Dictionary<string, string[]>? Order { get; init; }
}

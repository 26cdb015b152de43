namespace Gateway.Plugins;

/// <summary>A destination of the matched cluster, as configured.</summary>
public sealed class UpstreamDestination
{
    /// <summary>Creates a destination description.</summary>
    /// <param name="id">The destination's id within its cluster.</param>
    /// <param name="address">Its base address, such as <c>http://10.0.0.5:8080/</c>.</param>
    /// <param name="metadata">Its configured metadata; empty when it has none.</param>
    public UpstreamDestination(string id, string address, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(metadata);
        Id = id;
        Address = address;
        Metadata = metadata;
    }

    /// <summary>The destination's id within its cluster.</summary>
    public string Id { get; }

    /// <summary>Its base address.</summary>
    public string Address { get; }

    /// <summary>Its configured metadata, for example <c>"version": "v2"</c> for A/B groups.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
}

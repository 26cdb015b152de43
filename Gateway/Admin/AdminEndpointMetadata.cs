namespace Gateway.Admin;

/// <summary>Marks an endpoint as part of the admin API: it matches only on the admin listener.</summary>
internal sealed class AdminEndpointMetadata
{
    public static readonly AdminEndpointMetadata Instance = new();

    private AdminEndpointMetadata()
    {
    }
}

using System.Runtime.CompilerServices;
using Gateway.Plugins;
using Yarp.ReverseProxy.Model;

namespace Gateway.Pipeline;

/// <summary>Describes YARP's destinations to plugins, once per destination configuration rather than per request.</summary>
internal static class UpstreamDestinations
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    // YARP keeps a destination's state across config reloads and swaps in a new immutable model when its
    // configuration changes, so a description is reused while the model it was made from is current.
    private static readonly ConditionalWeakTable<DestinationState, Description> Descriptions = new();

    public static UpstreamDestination Describe(DestinationState destination)
    {
        var model = destination.Model;
        if (Descriptions.TryGetValue(destination, out var cached) && ReferenceEquals(cached.Model, model))
        {
            return cached.Destination;
        }
        var described = new UpstreamDestination(destination.DestinationId, model.Config.Address, model.Config.Metadata ?? NoMetadata);
        Descriptions.AddOrUpdate(destination, new Description(model, described));
        return described;
    }

    public static UpstreamDestination[] Describe(IReadOnlyList<DestinationState> destinations)
    {
        var described = new UpstreamDestination[destinations.Count];
        for (var i = 0; i < described.Length; i++)
        {
            described[i] = Describe(destinations[i]);
        }
        return described;
    }

    private sealed record Description(DestinationModel Model, UpstreamDestination Destination);
}

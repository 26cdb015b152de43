using Gateway.Plugins;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>A plugin's view of one request, for calling a plugin directly: route "api" of cluster "backend".</summary>
internal sealed class BenchmarkPluginContext(IReadOnlyList<UpstreamDestination>? destinations = null) : PluginContext
{
    public override HttpContext HttpContext { get; } = new DefaultHttpContext();

    public override string RouteId => "api";

    public override string ClusterId => "backend";

    public override IDictionary<string, object?> Vars { get; } = new Dictionary<string, object?>();

    public override IReadOnlyList<UpstreamDestination> Destinations { get; } = destinations ?? [];

    public override int NarrowDestinations(Func<UpstreamDestination, bool> keep) => Destinations.Count(keep);

    public override bool ChooseDestination(string destinationId)
    {
        for (var i = 0; i < Destinations.Count; i++)
        {
            if (Destinations[i].Id == destinationId)
            {
                return true;
            }
        }
        return false;
    }

    public override bool ChooseCluster(string clusterId) => false;

    /// <summary>The body a stage answered with, as the gateway would write it.</summary>
    public ReadOnlyMemory<byte> DeferredBody { get; private set; }

    public override void DeferResponseBody(ReadOnlyMemory<byte> body) => DeferredBody = body;
}

using Gateway.Plugins;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>A plugin's view of one request, for calling a plugin directly: route "api", no destinations.</summary>
internal sealed class BenchmarkPluginContext : PluginContext
{
    public override HttpContext HttpContext { get; } = new DefaultHttpContext();

    public override string RouteId => "api";

    public override string ClusterId => "backend";

    public override IDictionary<string, object?> Vars { get; } = new Dictionary<string, object?>();

    public override IReadOnlyList<UpstreamDestination> Destinations => [];

    public override int NarrowDestinations(Func<UpstreamDestination, bool> keep) => 0;

    public override bool ChooseDestination(string destinationId) => false;

    public override bool ChooseCluster(string clusterId) => false;
}

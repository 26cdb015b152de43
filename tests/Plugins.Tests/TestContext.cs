using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Tests;

/// <summary>A plugin context over a <see cref="DefaultHttpContext"/>, for calling a policy directly.</summary>
internal sealed class TestContext(IReadOnlyList<UpstreamDestination>? destinations = null) : PluginContext
{
    public override HttpContext HttpContext { get; } = new DefaultHttpContext();

    public override string RouteId => "route";

    public override string ClusterId => "cluster";

    public override IDictionary<string, object?> Vars { get; } = new Dictionary<string, object?>();

    public override IReadOnlyList<UpstreamDestination> Destinations => destinations ?? [];

    public override int NarrowDestinations(Func<UpstreamDestination, bool> keep) => throw new NotSupportedException();

    public override bool ChooseDestination(string destinationId) => throw new NotSupportedException();

    public override bool ChooseCluster(string clusterId) => throw new NotSupportedException();

    public override void DeferResponseBody(ReadOnlyMemory<byte> body) => throw new NotSupportedException();

    public static UpstreamDestination Destination(string id, int? weight = null) =>
        new(id, $"http://{id}.test/", weight is { } w ? new Dictionary<string, string> { ["weight"] = w.ToString(System.Globalization.CultureInfo.InvariantCulture) } : new Dictionary<string, string>());
}

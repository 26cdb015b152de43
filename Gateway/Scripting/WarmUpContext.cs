using System.Net;
using Gateway.Plugins;

namespace Gateway.Scripting;

/// <summary>
/// The synthetic request a script's hooks run against before its pipeline takes traffic, so the first real request
/// does not pay for compiling Jint's interpreter paths (in a fresh process, longer than the default time bound).
/// </summary>
internal sealed class WarmUpContext : PluginContext
{
    private readonly DefaultHttpContext _http;

    public WarmUpContext()
    {
        _http = new DefaultHttpContext();
        _http.Request.Method = HttpMethods.Get;
        _http.Request.Scheme = "http";
        _http.Request.Host = new HostString("warm-up.invalid");
        _http.Request.Path = "/";
        _http.Request.Headers.UserAgent = "gateway-warm-up";
        _http.Connection.RemoteIpAddress = IPAddress.Loopback;
        _http.Response.StatusCode = StatusCodes.Status200OK;
    }

    public override HttpContext HttpContext => _http;

    public override string RouteId => "warm-up";

    public override string ClusterId => "warm-up";

    public override IDictionary<string, object?> Vars { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    public override IReadOnlyList<UpstreamDestination> Destinations => [];

    public override int NarrowDestinations(Func<UpstreamDestination, bool> keep) => 0;

    public override bool ChooseDestination(string destinationId) => false;

    public override bool ChooseCluster(string clusterId) => false;

    // A warm-up request has no client to write to.
    public override void DeferResponseBody(ReadOnlyMemory<byte> body)
    {
    }
}

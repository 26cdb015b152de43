using System.Diagnostics;
using Gateway.Plugins;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Pipeline;

/// <summary>
/// The per-request state of a pipeline run: what plugins see as <see cref="PluginContext"/>, plus the hand-off with
/// YARP's forwarder that lets stages change the upstream's response headers after <c>next</c> returns.
/// </summary>
/// <remarks>
/// The pipeline's terminal <c>next</c> starts YARP's forwarding and completes when the upstream's status and headers
/// have been copied to the response, inside YARP's response transform (<see cref="HoldResponseAsync"/>). The transform
/// then waits until the stages have unwound (<see cref="ReleaseResponse"/>) before YARP streams the body.
/// </remarks>
internal sealed class ProxyRequestContext : PluginContext
{
    /// <summary>The end of every chain: forward, and come back when the upstream's headers are in.</summary>
    public static readonly PluginDelegate Terminal = static context => ((ProxyRequestContext)context).ForwardAsync();

    private readonly IReverseProxyFeature _proxy;
    private readonly RequestDelegate _forward;
    private Dictionary<string, object?>? _vars;
    private UpstreamDestination[]? _destinations;
    private TaskCompletionSource? _headersReady;
    private TaskCompletionSource? _released;

    public ProxyRequestContext(HttpContext httpContext, IReverseProxyFeature proxy, RequestDelegate forward)
    {
        HttpContext = httpContext;
        _proxy = proxy;
        _forward = forward;
    }

    public override HttpContext HttpContext { get; }

    public override string RouteId => _proxy.Route.Config.RouteId;

    public override string ClusterId => _proxy.Cluster?.Config.ClusterId ?? string.Empty;

    public override IDictionary<string, object?> Vars => _vars ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    public override IReadOnlyList<UpstreamDestination> Destinations => _destinations ??= UpstreamDestinations.Describe(_proxy.AvailableDestinations);

    /// <summary>Time the stage after the running one took, set by each stage and the terminal as they finish.</summary>
    internal long InnerTicks { get; set; }

    /// <summary>Where the request's exception started; null while none has.</summary>
    internal StageFault? Fault { get; set; }

    /// <summary>YARP's forwarding, once the terminal has started it.</summary>
    internal Task? Forwarding { get; private set; }

    public override int NarrowDestinations(Func<UpstreamDestination, bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var current = _proxy.AvailableDestinations;
        var kept = new List<DestinationState>(current.Count);
        foreach (var destination in current)
        {
            if (keep(UpstreamDestinations.Describe(destination)))
            {
                kept.Add(destination);
            }
        }
        _proxy.AvailableDestinations = kept;
        _destinations = null;
        return kept.Count;
    }

    public override bool ChooseDestination(string destinationId)
    {
        ArgumentNullException.ThrowIfNull(destinationId);
        foreach (var destination in _proxy.AvailableDestinations)
        {
            if (string.Equals(destination.DestinationId, destinationId, StringComparison.OrdinalIgnoreCase))
            {
                // A DestinationState is itself a one-item list of destinations: no allocation to pin it.
                _proxy.AvailableDestinations = destination;
                _destinations = null;
                return true;
            }
        }
        return false;
    }

    private async ValueTask ForwardAsync()
    {
        if (Forwarding is not null)
        {
            throw new InvalidOperationException("A pipeline stage called next more than once.");
        }
        var start = Stopwatch.GetTimestamp();
        // Continuations run inline: the stages unwind on the forwarder's thread, and by the time the transform
        // waits for them they are usually done, so the common case costs no thread hop.
        _headersReady = new TaskCompletionSource();
        _released = new TaskCompletionSource();
        Forwarding = ForwardAndSignalAsync();
        await _headersReady.Task.ConfigureAwait(false);
        InnerTicks = Stopwatch.GetTimestamp() - start;
    }

    private async Task ForwardAndSignalAsync()
    {
        try
        {
            await _forward(HttpContext).ConfigureAwait(false);
        }
        finally
        {
            // No response transform ran (an error status, no destination): the stages see what YARP set.
            _headersReady!.TrySetResult();
        }
    }

    /// <summary>Lets YARP stream the body: the stages are done with the headers.</summary>
    internal void ReleaseResponse() => _released?.TrySetResult();

    /// <summary>YARP's response transform for every route; a no-op for requests the pipeline does not hold.</summary>
    internal static ValueTask HoldResponseAsync(ResponseTransformContext transform) =>
        transform.HttpContext.Features.Get<ProxyRequestContext>() is { _headersReady: not null } request
            ? request.HoldResponseCoreAsync(transform)
            : default;

    private ValueTask HoldResponseCoreAsync(ResponseTransformContext transform)
    {
        _headersReady!.TrySetResult();
        var released = _released!.Task;
        if (released.IsCompleted)
        {
            SuppressBodyIfFaulted(transform);
            return default;
        }
        return WaitForReleaseAsync(released, transform);
    }

    private async ValueTask WaitForReleaseAsync(Task released, ResponseTransformContext transform)
    {
        await released.ConfigureAwait(false);
        SuppressBodyIfFaulted(transform);
    }

    // A stage failed after next: the upstream's body must not follow the gateway's error response.
    private void SuppressBodyIfFaulted(ResponseTransformContext transform) => transform.SuppressResponseBody |= Fault is not null;
}

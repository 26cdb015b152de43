using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gateway.Plugins;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Pipeline;

/// <summary>
/// The per-request state of a pipeline run: what plugins see as <see cref="PluginContext"/>, plus the hand-off with
/// YARP's forwarder that lets stages change the upstream's response headers after <c>next</c> returns.
/// </summary>
/// <remarks>
/// A chain of filters (<see cref="StageChain.IsFilterOnly"/>) needs no hand-off: the runner runs their request steps
/// and starts the forwarding (<see cref="ForwardPastFilters"/>), and YARP's response transform
/// (<see cref="TransformResponseAsync"/>) runs their response steps in place (<see cref="RunPendingResponseSteps"/>).
/// Otherwise the pipeline's terminal <c>next</c> starts YARP's forwarding and completes when the upstream's status and
/// headers have been copied to the response, inside that transform, which then waits until the stages have unwound
/// (<see cref="ReleaseResponse"/>) before YARP streams the body.
/// A context is reused, like ASP.NET Core's own <c>HttpContext</c>: a plugin must not keep one past its request.
/// </remarks>
internal sealed class ProxyRequestContext : PluginContext
{
    /// <summary>One request in this many has its stages timed.</summary>
    public const int TimingSampleInterval = 8;

    /// <summary>The end of every chain: forward, and come back when the upstream's headers are in.</summary>
    public static readonly PluginDelegate Terminal = static context => ((ProxyRequestContext)context).ForwardAsync();

    // One context per HttpContext, which Kestrel reuses for each request of a connection: the runner and YARP's response
    // transform find the request's context with a lock-free lookup, where a pool costs a round trip of interlocked
    // operations and an async-local flowing into the forwarding costs a copy of the execution context per request. A
    // feature would do the same, but setting one bumps the collection's revision, and every feature ASP.NET Core has
    // cached for the request is then fetched again through generic virtual calls.
    private static readonly ConditionalWeakTable<HttpContext, ProxyRequestContext> ByHttpContext = new();

    private readonly RequestSignal _headersReady = new();
    private readonly RequestSignal _released = new();
    private readonly RequestSignal _forwardingDone = new();
    private readonly Action _onForwardingCompleted;
    private HttpContext _httpContext = null!;
    private IReverseProxyFeature _proxy = null!;
    private RequestDelegate _forward = null!;
    private IProxyStateLookup _clusters = null!;
    private Dictionary<string, object?>? _vars;
    private UpstreamDestination[]? _destinations;
    private StageChain? _filters;
    private bool _holdsResponse;
    private int _filtersPassed;
    private volatile bool _forwardingStarted;
    private long _forwardingStart;
    private uint _served;

    public ProxyRequestContext() => _onForwardingCompleted = OnForwardingCompleted;

    /// <summary>The context of the requests <paramref name="httpContext"/> carries, made on its first.</summary>
    public static ProxyRequestContext For(HttpContext httpContext) => ByHttpContext.GetValue(httpContext, static _ => new ProxyRequestContext());

    /// <summary>Whether a request is bound: from <see cref="Initialize"/> to <see cref="Reset"/>.</summary>
    public bool IsRunning => _httpContext is not null;

    /// <summary>Binds the context to its HttpContext's current request.</summary>
    /// <param name="holdsResponse">Whether the stages run as middleware, whose terminal holds YARP's response with the signals.</param>
    public void Initialize(HttpContext httpContext, IReverseProxyFeature proxy, RequestDelegate forward, IProxyStateLookup clusters, bool holdsResponse)
    {
        _holdsResponse = holdsResponse;
        _httpContext = httpContext;
        _proxy = proxy;
        _forward = forward;
        _clusters = clusters;
        // Every 8th request of each context is timed, its first one included.
        IsTimed = (_served++ & (TimingSampleInterval - 1)) == 0;
    }

    /// <summary>Clears every trace of the request once the pipeline is done with it.</summary>
    public void Reset()
    {
        _httpContext = null!;
        _proxy = null!;
        _forward = null!;
        _clusters = null!;
        _vars?.Clear();
        _destinations = null;
        _filters = null;
        _filtersPassed = 0;
        if (_holdsResponse)
        {
            // Only the held path uses the signals (a route of filters leaves their cache lines alone); a reset also
            // drops the continuation each holds, which could root a plugin's load context.
            _headersReady.Reset();
            _released.Reset();
            _forwardingDone.Reset();
        }
        InnerTicks = 0;
        Fault = null;
        Forwarding = null;
        DeferredBody = null;
        _forwardingStarted = false;
    }

    public override HttpContext HttpContext => _httpContext;

    public override string RouteId => _proxy.Route.Config.RouteId;

    public override string ClusterId => _proxy.Cluster?.Config.ClusterId ?? string.Empty;

    public override IDictionary<string, object?> Vars => _vars ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    public override IReadOnlyList<UpstreamDestination> Destinations => _destinations ??= UpstreamDestinations.Describe(_proxy.AvailableDestinations);

    /// <summary>Whether this request's stages read the clock.</summary>
    internal bool IsTimed { get; private set; }

    /// <summary>Time the stage after the running one took, set by each stage and the terminal as they finish.</summary>
    internal long InnerTicks { get; set; }

    /// <summary>Where the request's exception started; null while none has.</summary>
    internal StageFault? Fault { get; set; }

    /// <summary>
    /// A body a stage answered with but left to the runner to write once the stages have unwound, so that stages
    /// before it can still change the status and headers, as they can for an upstream's answer.
    /// </summary>
    internal ReadOnlyMemory<byte>? DeferredBody { get; private set; }

    /// <summary>YARP's forwarding, once the terminal has started it.</summary>
    internal Task? Forwarding { get; private set; }

    public override int NarrowDestinations(Func<UpstreamDestination, bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var current = _proxy.AvailableDestinations;
        var firstDropped = 0;
        while (firstDropped < current.Count && keep(UpstreamDestinations.Describe(current[firstDropped])))
        {
            firstDropped++;
        }
        if (firstDropped == current.Count)
        {
            // All kept: the candidates stay as they are, and so does their description.
            return current.Count;
        }
        var kept = new List<DestinationState>(current.Count - 1);
        for (var i = 0; i < current.Count; i++)
        {
            if (i < firstDropped || (i > firstDropped && keep(UpstreamDestinations.Describe(current[i]))))
            {
                kept.Add(current[i]);
            }
        }
        // A DestinationState is itself a one-item list of destinations.
        _proxy.AvailableDestinations = kept.Count == 1 ? kept[0] : kept;
        _destinations = null;
        return kept.Count;
    }

    public override void DeferResponseBody(ReadOnlyMemory<byte> body) => DeferredBody = body;

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

    public override bool ChooseCluster(string clusterId)
    {
        ArgumentNullException.ThrowIfNull(clusterId);
        if (!_clusters.TryGetCluster(clusterId, out var cluster))
        {
            return false;
        }
        // What YARP's routing would have set had the route named this cluster; affinity, load balancing and the
        // forwarder read the cluster from the feature (whose destinations are init-only, hence a new one).
        _proxy = new ReverseProxyFeature
        {
            Route = _proxy.Route,
            Cluster = cluster.Model,
            AllDestinations = cluster.DestinationsState.AllDestinations,
            AvailableDestinations = cluster.DestinationsState.AvailableDestinations,
        };
        _httpContext.Features.Set(_proxy);
        _destinations = null;
        return true;
    }

    private ValueTask ForwardAsync()
    {
        if (_forwardingStarted)
        {
            throw new InvalidOperationException("A pipeline stage called next more than once.");
        }
        // Set before YARP starts: its response transform may run on another thread before Forwarding is assigned.
        _forwardingStarted = true;
        _forwardingStart = IsTimed ? Stopwatch.GetTimestamp() : 0;
        var forwarding = _forward(_httpContext);
        Forwarding = forwarding;
        if (forwarding.IsCompleted)
        {
            OnForwardingCompleted();
        }
        else
        {
            // A cached delegate and signals instead of async wrappers: the held path allocates no state machines.
            forwarding.GetAwaiter().UnsafeOnCompleted(_onForwardingCompleted);
        }
        // Continuations run inline: the stages unwind on the forwarder's thread, and by the time the transform
        // waits for them they are usually done, so the common case costs no thread hop.
        return _headersReady.WaitAsync();
    }

    private void SignalHeadersReady()
    {
        // The transform signals first when a response came; forwarding's completion is the fallback. They never overlap.
        if (_headersReady.IsSet)
        {
            return;
        }
        if (IsTimed)
        {
            InnerTicks = Stopwatch.GetTimestamp() - _forwardingStart;
        }
        _headersReady.Set();
    }

    private void OnForwardingCompleted()
    {
        // No response transform ran (an error status, no destination): the stages see what YARP set.
        SignalHeadersReady();
        _forwardingDone.Set();
    }

    /// <summary>
    /// Starts YARP's forwarding once every filter of <paramref name="filters"/> let the request pass; the response
    /// transform then runs their response steps.
    /// </summary>
    internal Task ForwardPastFilters(StageChain filters)
    {
        PassedFilters(filters, filters.Stages.Length);
        _forwardingStarted = true;
        return Forwarding = _forward(_httpContext);
    }

    /// <summary>Records that the request steps of the first <paramref name="passed"/> filters let the request pass.</summary>
    internal void PassedFilters(StageChain filters, int passed)
    {
        _filters = filters;
        _filtersPassed = passed;
    }

    /// <summary>
    /// Runs, innermost first, the response steps of the filters that let the request pass, unless they have run (the
    /// response transform runs them when the upstream answers). A step that throws stops the rest, as an exception
    /// unwinding through middleware would; its fault is left in <see cref="Fault"/> for the runner.
    /// </summary>
    internal void RunPendingResponseSteps()
    {
        var stages = _filters!.Stages;
        var passed = _filtersPassed;
        _filtersPassed = 0;
        try
        {
            for (var i = passed - 1; i >= 0; i--)
            {
                stages[i].OnResponse(this);
            }
        }
        catch (Exception ex)
        {
            Fault ??= new StageFault(null, ex);
        }
    }

    /// <summary>Completes when YARP's forwarding has, body included; then <see cref="Forwarding"/> holds its outcome.</summary>
    internal ValueTask WaitForForwardingAsync() => _forwardingDone.WaitAsync();

    /// <summary>Lets YARP stream the body: the stages are done with the headers.</summary>
    internal void ReleaseResponse() => _released.Set();

    /// <summary>
    /// YARP's response transform for every route: runs a filter chain's response steps, or holds the response for
    /// middleware stages; a no-op for requests the pipeline does not run.
    /// </summary>
    internal static ValueTask TransformResponseAsync(ResponseTransformContext transform)
    {
        if (!ByHttpContext.TryGetValue(transform.HttpContext, out var request) || !request._forwardingStarted)
        {
            return default;
        }
        if (request._filters is null)
        {
            return request.HoldResponseCoreAsync(transform);
        }
        request.RunPendingResponseSteps();
        request.SuppressReplacedBody(transform);
        return default;
    }

    private ValueTask HoldResponseCoreAsync(ResponseTransformContext transform)
    {
        SignalHeadersReady();
        if (_released.IsSet)
        {
            SuppressReplacedBody(transform);
            return default;
        }
        return WaitForReleaseAsync(transform);
    }

    private async ValueTask WaitForReleaseAsync(ResponseTransformContext transform)
    {
        await _released.WaitAsync().ConfigureAwait(false);
        SuppressReplacedBody(transform);
    }

    // A stage failed after next, or answered in the upstream's place: the upstream's body must not follow.
    private void SuppressReplacedBody(ResponseTransformContext transform) => transform.SuppressResponseBody |= Fault is not null || DeferredBody is not null;
}

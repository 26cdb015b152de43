using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Gateway.Forwarding;
using Gateway.Plugins;
using Yarp.ReverseProxy.Model;

namespace Gateway.Pipeline;

/// <summary>
/// What plugins see of a request as <see cref="PluginContext"/>, and what the runner records about it: whether it is
/// timed, where a fault started, the body a stage answered with. The forwarding it hands over to YARP is its
/// <see cref="Handoff"/>.
/// </summary>
/// <remarks>A context is reused, like ASP.NET Core's own <c>HttpContext</c>: a plugin must not keep one past its request.</remarks>
internal sealed class ProxyRequestContext : PluginContext
{
    /// <summary>One request in this many has its stages timed.</summary>
    public const int TimingSampleInterval = 8;

    // One context per HttpContext, which Kestrel reuses for each request of a connection: the runner and YARP's response
    // transform find the request's context with a lock-free lookup, where a pool costs a round trip of interlocked
    // operations and an async-local flowing into the forwarding costs a copy of the execution context per request. A
    // feature would do the same, but setting one bumps the collection's revision, and every feature ASP.NET Core has
    // cached for the request is then fetched again through generic virtual calls.
    private static readonly ConditionalWeakTable<HttpContext, ProxyRequestContext> ByHttpContext = new();

    private HttpContext _httpContext = null!;
    private IReverseProxyFeature _proxy = null!;
    private PipelineSnapshot _snapshot = null!;
    private PipelineEnvironment _environment = null!;
    private Dictionary<string, object?>? _vars;
    private Dictionary<string, object?>? _keptVars;
    private UpstreamDestination[]? _destinations;
    // The candidates as the stages left them when the request was forwarded: YARP's load balancing narrows them to its
    // pick, and a discarded attempt starts again from these.
    private IReadOnlyList<DestinationState>? _candidates;
    // Streams stages put in front of the response body, innermost first, and the body they were put in front of.
    private List<Stream>? _bodyWrappers;
    private Stream? _unwrappedBody;
    private uint _served;

    private ProxyRequestContext() => Handoff = new ForwarderHandoff(this);

    /// <summary>The context of the requests <paramref name="httpContext"/> carries, made on its first.</summary>
    public static ProxyRequestContext For(HttpContext httpContext) => ByHttpContext.GetValue(httpContext, static _ => new ProxyRequestContext());

    /// <summary>The context <paramref name="httpContext"/> carries, if the pipeline ever ran one of its requests.</summary>
    public static bool TryGet(HttpContext httpContext, [NotNullWhen(true)] out ProxyRequestContext? request) =>
        ByHttpContext.TryGetValue(httpContext, out request);

    /// <summary>Whether a request is bound: from <see cref="Initialize"/> to <see cref="Reset"/>.</summary>
    public bool IsRunning => _httpContext is not null;

    /// <summary>The forwarding this request hands over to YARP, and what comes back.</summary>
    public ForwarderHandoff Handoff { get; }

    /// <summary>Binds the context to its HttpContext's current request.</summary>
    /// <param name="snapshot">The pipeline whose stages run the request; the caller holds a reference on it.</param>
    /// <param name="holdsResponse">Whether the stages run as middleware, whose terminal holds YARP's response.</param>
    /// <param name="needsThreadPool">Whether a stage's steps must start on the thread pool (<see cref="StageChain.NeedsThreadPool"/>).</param>
    public void Initialize(
        HttpContext httpContext, IReverseProxyFeature proxy, PipelineSnapshot snapshot, PipelineEnvironment environment, bool holdsResponse,
        bool needsThreadPool)
    {
        _httpContext = httpContext;
        _proxy = proxy;
        _snapshot = snapshot;
        _environment = environment;
        Handoff.Bind(environment.Forward, holdsResponse, needsThreadPool);
        // Every 8th request of each context is timed, its first one included.
        IsTimed = (_served++ & (TimingSampleInterval - 1)) == 0;
    }

    /// <summary>Clears every trace of the request once the pipeline is done with it.</summary>
    public void Reset()
    {
        _httpContext = null!;
        _proxy = null!;
        _snapshot = null!;
        _environment = null!;
        if (KeepsVars)
        {
            // Handed over whole: the next request starts a dictionary of its own.
            _keptVars = _vars;
            _vars = null;
        }
        else
        {
            _vars?.Clear();
        }
        _destinations = null;
        _candidates = null;
        _bodyWrappers = null;
        _unwrappedBody = null;
        Handoff.Reset();
        InnerTicks = 0;
        Fault = null;
        DeferredBody = null;
    }

    public override HttpContext HttpContext => _httpContext;

    public override string RouteId => _proxy.Route.Config.RouteId;

    public override string ClusterId => _proxy.Cluster?.Config.ClusterId ?? string.Empty;

    public override IDictionary<string, object?> Vars => _vars ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    public override IReadOnlyList<UpstreamDestination> Destinations => _destinations ??= UpstreamDestinations.Describe(_proxy.AvailableDestinations);

    // YARP's own rule for an available destination (HealthyAndUnknown): neither check says unhealthy.
    public override bool IsUnhealthy(UpstreamDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        foreach (var state in _proxy.AllDestinations)
        {
            if (string.Equals(state.DestinationId, destination.Id, StringComparison.OrdinalIgnoreCase))
            {
                return state.Health.Active == DestinationHealth.Unhealthy || state.Health.Passive == DestinationHealth.Unhealthy;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether the request's variables outlive its pipeline, for something after the pipeline to read (the access log)
    /// through <see cref="TakeKeptVars"/>; otherwise they are cleared as the pipeline ends.
    /// </summary>
    internal bool KeepsVars { get; set; }

    /// <summary>The variables the request's pipeline left, when <see cref="KeepsVars"/>; and from now on, nothing kept.</summary>
    internal Dictionary<string, object?>? TakeKeptVars()
    {
        var kept = _keptVars;
        _keptVars = null;
        KeepsVars = false;
        return kept;
    }

    /// <summary>The pipeline whose stages run the request.</summary>
    internal PipelineSnapshot Snapshot => _snapshot;

    internal PipelineEnvironment RunEnvironment => _environment;

    internal IReverseProxyFeature ProxyFeature => _proxy;

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

    public override bool UpstreamFailed => UpstreamFailures.NoUpstreamAnswered(_httpContext);

    public override bool TryStartDetachedRequest(Func<PluginContext, ValueTask> work) => _environment.Detached.TryStart(this, work);

    /// <summary>The chain's end: forwards with the candidates as they are now remembered, for a discarded attempt to start again from.</summary>
    internal ValueTask ForwardAsync()
    {
        _candidates = _proxy.AvailableDestinations;
        return Handoff.ForwardAsync();
    }

    public override async ValueTask<bool> TryDiscardUpstreamResponseAsync()
    {
        var tried = _proxy.ProxiedDestination;
        if (!await Handoff.TryDiscardAsync().ConfigureAwait(false))
        {
            return false;
        }
        _proxy.AvailableDestinations = _candidates!;
        _proxy.ProxiedDestination = null;
        _destinations = null;
        if (tried is not null && _candidates!.Count > 1)
        {
            NarrowDestinations(destination => !string.Equals(destination.Id, tried.DestinationId, StringComparison.OrdinalIgnoreCase));
        }
        return true;
    }

    public override bool TryWrapResponseBody(Func<Stream, Stream> wrap)
    {
        ArgumentNullException.ThrowIfNull(wrap);
        var response = _httpContext.Response;
        if (response.HasStarted)
        {
            return false;
        }
        _unwrappedBody ??= response.Body;
        var wrapper = wrap(response.Body) ?? throw new InvalidOperationException("The response body's wrapper is null.");
        (_bodyWrappers ??= []).Add(wrapper);
        response.Body = wrapper;
        return true;
    }

    /// <summary>The whole body has gone through the wrappers: each writes what it holds, outermost first.</summary>
    internal async ValueTask CompleteBodyWrappersAsync()
    {
        if (_bodyWrappers is not { } wrappers)
        {
            return;
        }
        _bodyWrappers = null;
        for (var i = wrappers.Count - 1; i >= 0; i--)
        {
            await wrappers[i].DisposeAsync().ConfigureAwait(false);
        }
        _httpContext.Response.Body = _unwrappedBody!;
    }

    /// <summary>
    /// A stage failed: the wrappers are let go unflushed (what they hold would describe a body the client no longer
    /// gets), and the gateway's own answer goes to the body as it was.
    /// </summary>
    internal void DropBodyWrappers()
    {
        if (_bodyWrappers is null)
        {
            return;
        }
        _bodyWrappers = null;
        _httpContext.Response.Body = _unwrappedBody!;
    }

    /// <summary>Starts a detached copy's <see cref="Vars"/> as <paramref name="origin"/>'s are now.</summary>
    internal void CopyVars(ProxyRequestContext origin)
    {
        if (origin._vars is { Count: > 0 } vars)
        {
            foreach (var (name, value) in vars)
            {
                Vars[name] = value;
            }
        }
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

    public override bool ChooseCluster(string clusterId)
    {
        ArgumentNullException.ThrowIfNull(clusterId);
        if (!_environment.Clusters.TryGetCluster(clusterId, out var cluster))
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
}

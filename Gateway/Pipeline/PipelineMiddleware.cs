using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Pipeline;

/// <summary>
/// Runs the current pipeline snapshot's chain for the matched route, inside YARP's proxy pipeline: after routing
/// and before session affinity, load balancing and passive health checks, so stages see the route and cluster and
/// can narrow the destinations those steps choose from.
/// </summary>
internal sealed partial class PipelineMiddleware
{
    private readonly RequestDelegate _next;
    private readonly PipelineHolder _holder;
    private readonly PipelineResponseWriter _answers;
    private readonly PipelineEnvironment _environment;
    private readonly ILogger<PipelineMiddleware> _logger;

    public PipelineMiddleware(
        RequestDelegate next, PipelineHolder holder, PipelineResponseWriter answers, IProxyStateLookup clusters, DetachedRequests detached,
        ILogger<PipelineMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(holder);
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(clusters);
        ArgumentNullException.ThrowIfNull(detached);
        ArgumentNullException.ThrowIfNull(logger);
        _next = next;
        _holder = holder;
        _answers = answers;
        _environment = new PipelineEnvironment(next, clusters, detached);
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var snapshot = _holder.Current ?? throw new InvalidOperationException("The pipeline has not been loaded.");
        if (snapshot.ChainFor(proxy.Route.Config) is not { } chain)
        {
            // YARP matched the request by routes another snapshot was validated with (a reload is under way).
            return RunOnItsRoutesSnapshotAsync(context, proxy);
        }
        if (chain.IsEmpty)
        {
            // No stage on this route: nothing to hold a reference for, nothing allocated.
            var forwarding = _next(context);
            return forwarding.IsCompletedSuccessfully
                ? _answers.WriteForwarderErrorIfAnyAsync(context).AsTask()
                : ForwardAsync(forwarding, context);
        }
        if (!snapshot.TryAcquire())
        {
            // A reload retired it meanwhile.
            return RunOnItsRoutesSnapshotAsync(context, proxy);
        }
        return Run(context, proxy, snapshot, chain);
    }

    private Task Run(HttpContext context, IReverseProxyFeature proxy, PipelineSnapshot snapshot, StageChain chain) =>
        chain.IsFilterOnly ? RunFiltersAsync(context, proxy, snapshot, chain) : RunAsync(context, proxy, snapshot, chain);

    // The snapshot validated with the routes YARP used. None is left only for a request that took longer than the
    // routing grace between YARP's routing and this middleware: running another configuration's stages on it could
    // skip the auth its route had, so it is refused.
    private Task RunOnItsRoutesSnapshotAsync(HttpContext context, IReverseProxyFeature proxy)
    {
        if (_holder.AcquireFor(proxy.Route.Config, out var chain) is { } snapshot)
        {
            return Run(context, proxy, snapshot, chain);
        }
        Log.RouteOutOfDate(_logger, proxy.Route.Config.RouteId);
        return _answers.WriteRouteOutOfDateAsync(context).AsTask();
    }

    private async Task ForwardAsync(Task forwarding, HttpContext context)
    {
        await forwarding.ConfigureAwait(false);
        await _answers.WriteForwarderErrorIfAnyAsync(context).ConfigureAwait(false);
    }

    // Middleware stages: the chain's delegate runs them, and the terminal holds YARP's response until they unwind.
    private async Task RunAsync(HttpContext context, IReverseProxyFeature proxy, PipelineSnapshot snapshot, StageChain chain)
    {
        var request = Begin(context, proxy, snapshot, chain);
        try
        {
            try
            {
                await chain.Entry(request).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                request.Fault ??= new StageFault(null, ex);
                _answers.ReportFault(request);
            }
            finally
            {
                request.Handoff.ReleaseResponse();
            }

            if (request.Handoff.Forwarding is { } forwarding)
            {
                await request.Handoff.WaitForForwardingAsync().ConfigureAwait(false);
                await forwarding.ConfigureAwait(false);
            }
            await _answers.FinishAsync(request).ConfigureAwait(false);
        }
        finally
        {
            End(request, snapshot);
        }
    }

    // Filters only: their request steps here, then the forwarding, during which YARP's response transform runs their
    // response steps; no frame waits across the upstream call but this one.
    private async Task RunFiltersAsync(HttpContext context, IReverseProxyFeature proxy, PipelineSnapshot snapshot, StageChain chain)
    {
        var request = Begin(context, proxy, snapshot, chain);
        try
        {
            try
            {
                var stages = chain.Stages;
                var passed = 0;
                while (passed < stages.Length)
                {
                    var stage = stages[passed];
                    if (stage.NeedsThreadPool && ThreadPoolHop.IsNeeded)
                    {
                        await ThreadPoolHop.ToPool();
                    }
                    var step = stage.OnRequestAsync(request);
                    if (!(step.IsCompletedSuccessfully ? step.Result : await step.ConfigureAwait(false)))
                    {
                        break;
                    }
                    passed++;
                }
                if (passed == stages.Length)
                {
                    await request.Handoff.ForwardPastFilters(chain).ConfigureAwait(false);
                }
                else
                {
                    request.Handoff.PassedFilters(chain, passed);
                }
                // When a filter answered, or YARP did (no response transform ran), the response steps run now.
                if (request.Handoff.HasPendingResponseSteps && chain.NeedsThreadPool && ThreadPoolHop.IsNeeded)
                {
                    await ThreadPoolHop.ToPool();
                }
                request.Handoff.RunPendingResponseSteps();
            }
            catch (Exception ex)
            {
                request.Fault ??= new StageFault(null, ex);
            }

            if (request.Fault is not null)
            {
                _answers.ReportFault(request);
            }
            await _answers.FinishAsync(request).ConfigureAwait(false);
        }
        finally
        {
            End(request, snapshot);
        }
    }

    private ProxyRequestContext Begin(HttpContext context, IReverseProxyFeature proxy, PipelineSnapshot snapshot, StageChain chain)
    {
        var request = ProxyRequestContext.For(context);
        if (request.IsRunning)
        {
            // Only something re-entering the pipeline for the request it is serving gets here; one context per request
            // cannot serve both, and the snapshot must not be left with a reference nobody will drop.
            snapshot.Release();
            throw new InvalidOperationException("The gateway pipeline is already running for this request.");
        }
        // Middleware stages hold YARP's response until they unwind; a chain of filters holds nothing.
        request.Initialize(context, proxy, snapshot, _environment, holdsResponse: !chain.IsFilterOnly, chain.NeedsThreadPool);
        return request;
    }

    private static void End(ProxyRequestContext request, PipelineSnapshot snapshot)
    {
        request.Reset();
        snapshot.Release();
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.RouteOutOfDate, LogLevel.Warning, "A request routed by route {Route} of a configuration no longer serving was refused with 503.")]
        public static partial void RouteOutOfDate(ILogger logger, string route);
    }
}

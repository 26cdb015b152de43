using System.Diagnostics;
using System.IO.Pipelines;
using Gateway.Errors;
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
    private readonly GatewayProblems _problems;
    private readonly IProxyStateLookup _clusters;
    private readonly ILogger<PipelineMiddleware> _logger;

    // A stage that fails every request (a script that throws on some input) must not turn traffic into log volume.
    private readonly LogThrottle _failures;

    public PipelineMiddleware(RequestDelegate next, PipelineHolder holder, GatewayProblems problems, IProxyStateLookup clusters, TimeProvider time, ILogger<PipelineMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(holder);
        ArgumentNullException.ThrowIfNull(problems);
        ArgumentNullException.ThrowIfNull(logger);
        _next = next;
        _holder = holder;
        _problems = problems;
        _clusters = clusters;
        _logger = logger;
        _failures = new LogThrottle(time, linesPerWindow: 10, TimeSpan.FromMinutes(1));
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
                ? _problems.WriteForwarderErrorIfAnyAsync(context).AsTask()
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
        context.Response.Headers.RetryAfter = "1";
        return _problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
            "The gateway's configuration changed while this request was being routed; retry it.").AsTask();
    }

    private async Task ForwardAsync(Task forwarding, HttpContext context)
    {
        await forwarding.ConfigureAwait(false);
        await _problems.WriteForwarderErrorIfAnyAsync(context).ConfigureAwait(false);
    }

    // Middleware stages: the chain's delegate runs them, and the terminal holds YARP's response until they unwind.
    private async Task RunAsync(HttpContext context, IReverseProxyFeature proxy, PipelineSnapshot snapshot, StageChain chain)
    {
        var request = Begin(context, proxy, snapshot, holdsResponse: true);
        try
        {
            try
            {
                await chain.Entry(request).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                request.Fault ??= new StageFault(null, ex);
                ReportFault(context, request);
            }
            finally
            {
                request.ReleaseResponse();
            }

            if (request.Forwarding is { } forwarding)
            {
                await request.WaitForForwardingAsync().ConfigureAwait(false);
                await forwarding.ConfigureAwait(false);
            }
            await FinishAsync(context, request).ConfigureAwait(false);
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
        var request = Begin(context, proxy, snapshot, holdsResponse: false);
        try
        {
            try
            {
                var stages = chain.Stages;
                var passed = 0;
                while (passed < stages.Length)
                {
                    var step = stages[passed].OnRequestAsync(request);
                    if (!(step.IsCompletedSuccessfully ? step.Result : await step.ConfigureAwait(false)))
                    {
                        break;
                    }
                    passed++;
                }
                if (passed == stages.Length)
                {
                    await request.ForwardPastFilters(chain).ConfigureAwait(false);
                }
                else
                {
                    request.PassedFilters(chain, passed);
                }
                // When a filter answered, or YARP did (no response transform ran), the response steps run now.
                request.RunPendingResponseSteps();
            }
            catch (Exception ex)
            {
                request.Fault ??= new StageFault(null, ex);
            }

            if (request.Fault is not null)
            {
                ReportFault(context, request);
            }
            await FinishAsync(context, request).ConfigureAwait(false);
        }
        finally
        {
            End(request, snapshot);
        }
    }

    private ProxyRequestContext Begin(HttpContext context, IReverseProxyFeature proxy, PipelineSnapshot snapshot, bool holdsResponse)
    {
        var request = ProxyRequestContext.For(context);
        if (request.IsRunning)
        {
            // Only something re-entering the pipeline for the request it is serving gets here; one context per request
            // cannot serve both, and the snapshot must not be left with a reference nobody will drop.
            snapshot.Release();
            throw new InvalidOperationException("The gateway pipeline is already running for this request.");
        }
        request.Initialize(context, proxy, _next, _clusters, holdsResponse);
        return request;
    }

    private static void End(ProxyRequestContext request, PipelineSnapshot snapshot)
    {
        request.Reset();
        snapshot.Release();
    }

    private void ReportFault(HttpContext context, ProxyRequestContext request)
    {
        var traceId = Activity.Current?.Id ?? context.TraceIdentifier;
        request.Fault!.Stage?.Counters.RecordLastError(request.Fault.Exception.Message);
        var stage = request.Fault.Stage?.Entry.DisplayName ?? "the pipeline";
        if (_failures.ShouldLog(stage, out var leftOut))
        {
            if (leftOut == 0)
            {
                Log.StageFailed(_logger, stage, request.RouteId, traceId, request.Fault.Exception);
            }
            else
            {
                Log.StageFailedAgain(_logger, stage, request.RouteId, traceId, leftOut, request.Fault.Exception);
            }
        }
        if (!context.Response.HasStarted)
        {
            // Whatever the upstream or the stages put in the response so far is not what the client gets.
            context.Response.Clear();
        }
    }

    // What the client gets after the stages and the upstream are done: a 500 for a stage's fault, the body a stage
    // answered with, or the problem for YARP's own error.
    private async ValueTask FinishAsync(HttpContext context, ProxyRequestContext request)
    {
        if (request.Fault is not null)
        {
            if (!context.Response.HasStarted)
            {
                await _problems.WriteStageFailedAsync(context).ConfigureAwait(false);
            }
        }
        else if (request.DeferredBody is { } body)
        {
            await WriteDeferredBodyAsync(context, body).ConfigureAwait(false);
        }
        else
        {
            await _problems.WriteForwarderErrorIfAnyAsync(context).ConfigureAwait(false);
        }
    }

    private static ValueTask<FlushResult> WriteDeferredBodyAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        var bodiless = response.StatusCode is 204 or 304 || response.StatusCode < 200;
        if (!response.HasStarted)
        {
            response.ContentLength = bodiless ? null : body.Length;
        }
        // A HEAD answer carries the length of the body it stands for, not the body.
        if (bodiless || HttpMethods.IsHead(context.Request.Method))
        {
            return default;
        }
        return response.BodyWriter.WriteAsync(body, context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.RouteOutOfDate, LogLevel.Warning, "A request routed by route {Route} of a configuration no longer serving was refused with 503.")]
        public static partial void RouteOutOfDate(ILogger logger, string route);

        [LoggerMessage(EventIds.StageFailed, LogLevel.Error, "{Stage} failed on route {Route} (trace {TraceId}); the request gets a 500.")]
        public static partial void StageFailed(ILogger logger, string stage, string route, string traceId, Exception exception);

        [LoggerMessage(EventIds.StageFailed, LogLevel.Error, "{Stage} failed on route {Route} (trace {TraceId}); the request gets a 500. {LeftOut} more of its failures were not logged since its last line (at most ten are a minute).")]
        public static partial void StageFailedAgain(ILogger logger, string stage, string route, string traceId, long leftOut, Exception exception);
    }
}

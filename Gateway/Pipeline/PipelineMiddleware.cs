using System.Diagnostics;
using System.IO.Pipelines;
using Gateway.Errors;
using Microsoft.Extensions.ObjectPool;
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
    // Retains enough contexts for a busy proxy's concurrent requests; each is a few hundred bytes.
    private readonly ObjectPool<ProxyRequestContext> _contexts = new DefaultObjectPool<ProxyRequestContext>(new ContextPolicy(), maximumRetained: 1024);

    public PipelineMiddleware(RequestDelegate next, PipelineHolder holder, GatewayProblems problems, IProxyStateLookup clusters, ILogger<PipelineMiddleware> logger)
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
    }

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var snapshot = _holder.Current ?? throw new InvalidOperationException("The pipeline has not been loaded.");
        if (snapshot.ChainFor(proxy.Route.Config.RouteId).IsEmpty)
        {
            // No stage on this route: nothing to hold a reference for, nothing allocated.
            var forwarding = _next(context);
            return forwarding.IsCompletedSuccessfully
                ? _problems.WriteForwarderErrorIfAnyAsync(context).AsTask()
                : ForwardAsync(forwarding, context);
        }
        if (!snapshot.TryAcquire())
        {
            snapshot = _holder.Acquire();
        }
        return RunAsync(context, proxy, snapshot);
    }

    private async Task ForwardAsync(Task forwarding, HttpContext context)
    {
        await forwarding.ConfigureAwait(false);
        await _problems.WriteForwarderErrorIfAnyAsync(context).ConfigureAwait(false);
    }

    private async Task RunAsync(HttpContext context, IReverseProxyFeature proxy, PipelineSnapshot snapshot)
    {
        var request = _contexts.Get();
        request.Initialize(context, proxy, _next, _clusters);
        request.EnterRunner();
        try
        {
            try
            {
                await snapshot.ChainFor(request.RouteId).Entry(request).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                request.Fault ??= new StageFault(null, ex);
                var traceId = Activity.Current?.Id ?? context.TraceIdentifier;
                Log.StageFailed(_logger, request.Fault.Stage?.Entry.DisplayName ?? "the pipeline", request.RouteId, traceId, ex);
                if (!context.Response.HasStarted)
                {
                    // Whatever the upstream or the stages put in the response so far is not what the client gets.
                    context.Response.Clear();
                }
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
        finally
        {
            _contexts.Return(request);
            snapshot.Release();
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

    private sealed class ContextPolicy : PooledObjectPolicy<ProxyRequestContext>
    {
        public override ProxyRequestContext Create() => new();

        public override bool Return(ProxyRequestContext context)
        {
            context.Reset();
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.StageFailed, LogLevel.Error, "{Stage} failed on route {Route} (trace {TraceId}); the request gets a 500.")]
        public static partial void StageFailed(ILogger logger, string stage, string route, string traceId, Exception exception);
    }
}

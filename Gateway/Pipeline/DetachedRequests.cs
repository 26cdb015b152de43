using Gateway.Plugins;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace Gateway.Pipeline;

/// <summary>
/// Runs the copies of requests that stages start with <see cref="PluginContext.TryStartDetachedRequest"/>: each on the
/// thread pool with a context of its own, through the same snapshot's stages (holding a reference on it, so a reload
/// cannot unload the code it runs), at most <see cref="DetachedRequestOptions.MaxConcurrent"/> at once, each canceled
/// after <see cref="DetachedRequestOptions.Timeout"/> or when the gateway stops.
/// </summary>
internal sealed partial class DetachedRequests
{
    private readonly IServiceProvider _services;
    private readonly PipelineResponseWriter _answers;
    private readonly TimeProvider _time;
    private readonly ILogger<DetachedRequests> _logger;
    private readonly CancellationToken _stopping;
    private readonly int _maxConcurrent;
    private readonly TimeSpan _timeout;
    private int _running;

    public DetachedRequests(
        IServiceProvider services, IOptions<GatewayOptions> options, PipelineResponseWriter answers, IHostApplicationLifetime lifetime,
        TimeProvider time, ILogger<DetachedRequests> logger)
    {
        var settings = options.Value.DetachedRequests;
        if (settings.MaxConcurrent < 0)
        {
            throw new OptionsValidationException(nameof(GatewayOptions), typeof(DetachedRequestOptions),
                [$"{GatewayOptions.SectionName}:DetachedRequests:MaxConcurrent must be zero (none) or more, not {settings.MaxConcurrent}."]);
        }
        if (settings.Timeout <= TimeSpan.Zero)
        {
            throw new OptionsValidationException(nameof(GatewayOptions), typeof(DetachedRequestOptions),
                [$"{GatewayOptions.SectionName}:DetachedRequests:Timeout must be more than zero, not {settings.Timeout}."]);
        }
        _services = services;
        _answers = answers;
        _time = time;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
        _maxConcurrent = settings.MaxConcurrent;
        _timeout = settings.Timeout;
    }

    /// <summary>How many are running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Starts a copy of <paramref name="origin"/>'s request running <paramref name="work"/>, unless it may have a body or too many run.</summary>
    public bool TryStart(ProxyRequestContext origin, Func<PluginContext, ValueTask> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var http = origin.HttpContext;
        if (http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false)
        {
            return false;
        }
        if (Interlocked.Increment(ref _running) > _maxConcurrent)
        {
            Interlocked.Decrement(ref _running);
            Log.Refused(_logger, origin.RouteId, _maxConcurrent);
            return false;
        }
        var snapshot = origin.Snapshot;
        if (!snapshot.TryAcquire())
        {
            Interlocked.Decrement(ref _running);
            return false;
        }
        var timeout = new CancellationTokenSource(_timeout, _time);
        var aborted = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping);
        var copy = DetachedHttpContext.CopyOf(http, _services, aborted.Token);
        var proxy = origin.ProxyFeature;
        // The candidates as the stages so far left them; a feature of its own, as the copy may narrow them further.
        var feature = new ReverseProxyFeature
        {
            Route = proxy.Route,
            Cluster = proxy.Cluster,
            AllDestinations = proxy.AllDestinations,
            AvailableDestinations = proxy.AvailableDestinations,
        };
        copy.Features.Set<IReverseProxyFeature>(feature);
        var request = ProxyRequestContext.For(copy);
        request.Initialize(copy, feature, snapshot, origin.RunEnvironment, holdsResponse: true, origin.Handoff.NeedsThreadPool);
        request.CopyVars(origin);
        _ = Task.Run(() => RunAsync(request, work, timeout, aborted));
        return true;
    }

    private async Task RunAsync(ProxyRequestContext request, Func<PluginContext, ValueTask> work, CancellationTokenSource timeout, CancellationTokenSource aborted)
    {
        var snapshot = request.Snapshot;
        var route = request.RouteId;
        try
        {
            try
            {
                await work(request).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                request.Fault ??= new StageFault(null, ex);
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
            if (request.Fault is not null)
            {
                _answers.ReportFault(request);
            }
            else
            {
                await DetachedHttpContext.CompleteAsync(request.HttpContext).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // A response callback failed, or YARP did: the copy had no client to tell, the log is told.
            Log.Failed(_logger, route, ex);
        }
        finally
        {
            request.Reset();
            snapshot.Release();
            aborted.Dispose();
            timeout.Dispose();
            Interlocked.Decrement(ref _running);
            Log.Finished(_logger, route);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.DetachedRequestRefused, LogLevel.Debug, "A detached copy of a request on route {Route} was refused: {MaxConcurrent} are running (Gateway:DetachedRequests:MaxConcurrent).")]
        public static partial void Refused(ILogger logger, string route, int maxConcurrent);

        [LoggerMessage(EventIds.DetachedRequestFailed, LogLevel.Warning, "A detached copy of a request on route {Route} failed.")]
        public static partial void Failed(ILogger logger, string route, Exception exception);

        [LoggerMessage(EventIds.DetachedRequestFinished, LogLevel.Debug, "A detached copy of a request on route {Route} is done.")]
        public static partial void Finished(ILogger logger, string route);
    }
}

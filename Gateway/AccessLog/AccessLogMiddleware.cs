using System.Diagnostics;
using Gateway.Errors;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace Gateway.AccessLog;

/// <summary>
/// Logs each sampled request of the proxy listener as one line once it has been answered: what was asked, where it
/// went, what came back, how long it took, and the variables the pipeline left.
/// </summary>
internal sealed class AccessLogMiddleware
{
    private static readonly EventId LineEvent = new(EventIds.AccessLogLine, "AccessLogLine");

    private readonly RequestDelegate _next;
    private readonly Func<HttpContext, bool> _isAdminRequest;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _sampleEvery;
    private readonly bool _query;
    private readonly string[] _vars;
    private long _requests;

    /// <param name="isAdminRequest">Whether a request came to the admin listener, whose calls are logged by the admin API itself.</param>
    public AccessLogMiddleware(RequestDelegate next, IOptions<AccessLogOptions> options, ILoggerFactory loggers, TimeProvider time, Func<HttpContext, bool> isAdminRequest)
    {
        _next = next;
        _isAdminRequest = isAdminRequest;
        _logger = loggers.CreateLogger(AccessLogOptions.Category);
        _time = time;
        _sampleEvery = options.Value.SampleEvery;
        _query = options.Value.Query;
        _vars = [.. options.Value.Vars ?? AccessLogOptions.DefaultVars];
    }

    public Task InvokeAsync(HttpContext context)
    {
        // One in SampleEvery of the requests that would be logged, so that a quiet route does not thin out the others.
        if (!_logger.IsEnabled(LogLevel.Information)
            || _isAdminRequest(context)
            || (context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>() is { } route && RouteAccessLog.IsOff(route.Config))
            || (_sampleEvery > 1 && Interlocked.Increment(ref _requests) % _sampleEvery != 0))
        {
            return _next(context);
        }
        return LogAsync(context);
    }

    private async Task LogAsync(HttpContext context)
    {
        var time = _time.GetUtcNow();
        var start = Stopwatch.GetTimestamp();
        var record = AccessLogRecord.For(context);
        var request = _vars.Length > 0 ? ProxyRequestContext.For(context) : null;
        record.Begin(context);
        request?.KeepsVars = true;
        var failed = false;
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        catch
        {
            // The server answers it with a 500 (or drops the connection if the response had started).
            failed = true;
            throw;
        }
        finally
        {
            var duration = Stopwatch.GetElapsedTime(start);
            var vars = request?.TakeKeptVars();
            try
            {
                _logger.Log(LogLevel.Information, LineEvent, Describe(context, record, time, duration, failed, vars), null, AccessLogEntry.Format);
            }
            finally
            {
                record.End(context);
            }
        }
    }

    private AccessLogEntry Describe(HttpContext context, AccessLogRecord record, DateTimeOffset time, TimeSpan duration, bool failed, Dictionary<string, object?>? vars)
    {
        var request = context.Request;
        var proxy = context.Features.Get<IReverseProxyFeature>();
        // What the client sent, as it sent it, rather than the decoded path.
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToString();
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        return new AccessLogEntry
        {
            Time = time,
            Client = context.Connection.RemoteIpAddress?.ToString(),
            Method = request.Method,
            Host = request.Host.Value ?? "",
            Path = _query || queryStart < 0 ? target : target[..queryStart],
            Protocol = request.Protocol,
            Status = failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode,
            Route = proxy?.Route.Config.RouteId,
            Cluster = proxy?.Cluster?.Config.ClusterId,
            Destination = record.Destination,
            BytesIn = record.BytesIn,
            BytesOut = record.BytesOut,
            DurationMs = duration.TotalMilliseconds,
            UpstreamMs = record.Forwarded ? Stopwatch.GetElapsedTime(0, record.UpstreamTicks).TotalMilliseconds : null,
            TraceId = RequestTrace.IdOf(context),
            Vars = LoggedVars(vars),
        };
    }

    private IReadOnlyList<KeyValuePair<string, object?>> LoggedVars(Dictionary<string, object?>? vars)
    {
        if (vars is null || vars.Count == 0)
        {
            return [];
        }
        var logged = new List<KeyValuePair<string, object?>>(_vars.Length);
        foreach (var name in _vars)
        {
            if (vars.TryGetValue(name, out var value) && value is not null)
            {
                logged.Add(new(name, value));
            }
        }
        return logged;
    }
}

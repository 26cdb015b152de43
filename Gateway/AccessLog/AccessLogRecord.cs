using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.AccessLog;

/// <summary>
/// What the access log gathers about a request while it runs: its byte counts and its time in the forwarder. One per
/// HttpContext (which Kestrel reuses for each request of a connection), found again from the proxy pipeline's end.
/// </summary>
internal sealed class AccessLogRecord
{
    private static readonly ConditionalWeakTable<HttpContext, AccessLogRecord> ByHttpContext = new();

    private readonly CountingResponseBody _response = new();
    private readonly CountingRequestBody _request = new();
    private bool _countsRequest;

    public static AccessLogRecord For(HttpContext context) => ByHttpContext.GetValue(context, static _ => new AccessLogRecord());

    /// <summary>Whether the request being served is logged.</summary>
    public bool IsLogging { get; private set; }

    /// <summary>Time spent in the forwarder (every attempt's, when a stage retried), in timestamp ticks.</summary>
    public long UpstreamTicks { get; private set; }

    /// <summary>Whether the request reached the forwarder.</summary>
    public bool Forwarded { get; private set; }

    /// <summary>The last destination the forwarder sent the request to.</summary>
    public string? Destination { get; private set; }

    public long BytesIn => _countsRequest ? _request.Bytes : 0;

    public long BytesOut => _response.Bytes;

    /// <summary>Puts the counters in front of the request's bodies.</summary>
    public void Begin(HttpContext context)
    {
        IsLogging = true;
        _response.Attach(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
        context.Features.Set<IHttpResponseBodyFeature>(_response);
        _countsRequest = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true;
        if (_countsRequest)
        {
            _request.Attach(context.Request.Body);
            context.Request.Body = _request;
        }
    }

    /// <summary>Gives the server its bodies back and forgets the request.</summary>
    public void End(HttpContext context)
    {
        context.Features.Set(_response.Inner);
        _response.Detach();
        if (_countsRequest)
        {
            context.Request.Body = _request.Inner;
            _request.Detach();
        }
        IsLogging = false;
        UpstreamTicks = 0;
        Forwarded = false;
        Destination = null;
    }

    /// <summary>At the proxy pipeline's end, around YARP's forwarder: its time, on a logged request only.</summary>
    public static Task TimeForwarderAsync(HttpContext context, RequestDelegate next) =>
        ByHttpContext.TryGetValue(context, out var record) && record.IsLogging ? record.TimeAsync(context, next) : next(context);

    private async Task TimeAsync(HttpContext context, RequestDelegate next)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            UpstreamTicks += Stopwatch.GetTimestamp() - start;
            Forwarded = true;
            Destination = context.GetReverseProxyFeature().ProxiedDestination?.DestinationId ?? Destination;
        }
    }
}

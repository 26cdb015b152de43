using System.Diagnostics;

namespace Gateway.Errors;

/// <summary>How the gateway names a request in its errors and logs: the trace it belongs to.</summary>
internal static class RequestTrace
{
    /// <summary>
    /// The W3C trace id (the one a client's <c>traceparent</c> carried, or the gateway started), which a tracing backend
    /// finds the request by; the connection's request id when neither names one.
    /// </summary>
    public static string IdOf(HttpContext context)
    {
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            return activity.TraceId.ToHexString();
        }
        // Nobody traces, so the host started no activity: the client's traceparent, forwarded as it came, still names the trace.
        return context.Request.Headers.TraceParent is [{ } traceParent] && ActivityContext.TryParse(traceParent, null, out var parent)
            ? parent.TraceId.ToHexString()
            : context.TraceIdentifier;
    }
}

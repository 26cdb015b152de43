using System.Diagnostics;

namespace Gateway.Errors;

/// <summary>How the gateway names a request in its errors and logs: the trace it belongs to.</summary>
internal static class RequestTrace
{
    /// <summary>
    /// The W3C trace id (the one a client's <c>traceparent</c> carried, or the gateway started), which a tracing backend
    /// finds the request by; the connection's request id when no activity runs.
    /// </summary>
    public static string IdOf(HttpContext context) =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.TraceId.ToHexString() : context.TraceIdentifier;
}

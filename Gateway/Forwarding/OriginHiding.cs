using Yarp.ReverseProxy.Transforms;

namespace Gateway.Forwarding;

/// <summary>
/// Keeps what the servers behind the gateway are out of its answers, on every route: the upstream response fields
/// that name their software (<see cref="HideOriginOptions.RemoveHeaders"/>) are removed before any stage sees the
/// response, and on a route whose metadata says <c>"HideOriginErrors": "true"</c> an upstream <c>5xx</c> loses its body
/// (stack traces, framework banners) and fields but <c>Retry-After</c>: the client gets the gateway's problem+json with
/// the same status.
/// </summary>
internal sealed class OriginHiding(string[] removeHeaders)
{
    public const string ErrorsMetadataKey = "HideOriginErrors";

    /// <summary>YARP's response transform, first after the connection-nominated fields.</summary>
    public ValueTask TransformAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is null)
        {
            return default;
        }
        var headers = context.HttpContext.Response.Headers;
        foreach (var name in removeHeaders)
        {
            headers.Remove(name);
        }
        if (context.HttpContext.Response.StatusCode >= StatusCodes.Status500InternalServerError
            && context.HttpContext.GetReverseProxyFeature().Route.Config.Metadata is { } metadata
            && metadata.TryGetValue(ErrorsMetadataKey, out var hide) && string.Equals(hide, "true", StringComparison.OrdinalIgnoreCase))
        {
            // Only when to come back is the client's business.
            var retryAfter = headers.RetryAfter;
            headers.Clear();
            headers.RetryAfter = retryAfter;
            context.SuppressResponseBody = true;
            context.HttpContext.Features.Set(HiddenUpstreamError.Instance);
        }
        return default;
    }
}

/// <summary>Marks a response whose upstream error body was dropped, for the gateway to answer with its own problem.</summary>
internal sealed class HiddenUpstreamError
{
    public static readonly HiddenUpstreamError Instance = new();
}

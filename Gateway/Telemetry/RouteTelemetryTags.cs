using System.Diagnostics;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Telemetry;

/// <summary>
/// Puts the request's route and cluster on ASP.NET Core's own <c>http.server.request.duration</c> (which already has
/// the method, status and protocol), so requests by route, cluster and status and their durations are the .NET
/// histogram every dashboard knows rather than a second one; and, with the destination, on the request's span. ASP.NET
/// Core offers the tags feature only while a reader listens to that meter, and a span is traced only while a tracer
/// listens to the gateway's source; otherwise this is two lookups.
/// </summary>
internal static class RouteTelemetryTags
{
    /// <summary>In YARP's proxy pipeline, first.</summary>
    public static Task ApplyAsync(HttpContext context, RequestDelegate next)
    {
        var tags = context.Features.Get<IHttpMetricsTagsFeature>();
        // ASP.NET Core makes an activity for its log scopes even when nothing traces; that one is left alone.
        var span = PipelineActivities.Source.HasListeners() && context.Features.Get<IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true } activity
            ? activity
            : null;
        return tags is null && span is null ? next(context) : TagAsync(context, tags, span, next);
    }

    private static async Task TagAsync(HttpContext context, IHttpMetricsTagsFeature? tags, Activity? span, RequestDelegate next)
    {
        var route = context.GetReverseProxyFeature().Route.Config.RouteId;
        tags?.Tags.Add(new("gateway.route", route));
        span?.SetTag("gateway.route", route);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            // After the pipeline: a stage may have sent the request to another cluster (A/B, Gslb).
            var proxy = context.GetReverseProxyFeature();
            var cluster = proxy.Cluster?.Config.ClusterId ?? "";
            tags?.Tags.Add(new("gateway.cluster", cluster));
            span?.SetTag("gateway.cluster", cluster);
            span?.SetTag("gateway.destination", proxy.ProxiedDestination?.DestinationId);
        }
    }
}

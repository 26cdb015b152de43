using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Telemetry;

/// <summary>
/// Puts the request's route and cluster on ASP.NET Core's own <c>http.server.request.duration</c> (which already has
/// the method, status and protocol), so requests by route, cluster and status and their durations are the .NET
/// histogram every dashboard knows rather than a second one. ASP.NET Core offers the tags feature only while a reader
/// listens to that meter; otherwise this is one feature lookup.
/// </summary>
internal static class RouteMetricTags
{
    /// <summary>In YARP's proxy pipeline, first.</summary>
    public static Task ApplyAsync(HttpContext context, RequestDelegate next) =>
        context.Features.Get<IHttpMetricsTagsFeature>() is { } tags ? TagAsync(context, tags, next) : next(context);

    private static async Task TagAsync(HttpContext context, IHttpMetricsTagsFeature tags, RequestDelegate next)
    {
        tags.Tags.Add(new("gateway.route", context.GetReverseProxyFeature().Route.Config.RouteId));
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            // After the pipeline: a stage may have sent the request to another cluster (A/B, Gslb).
            tags.Tags.Add(new("gateway.cluster", context.GetReverseProxyFeature().Cluster?.Config.ClusterId ?? ""));
        }
    }
}

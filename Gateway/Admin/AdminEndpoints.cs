using System.Text.Json.Serialization;
using Gateway.Admin;
using Gateway.Caching;
using Gateway.Cluster;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Caching.Distributed;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the admin API. Its endpoints match only on the admin listener.</summary>
public static class AdminEndpoints
{
    /// <summary>Maps <c>/healthz</c> and the key-protected <c>/admin</c> endpoints.</summary>
    public static IEndpointConventionBuilder MapGatewayAdmin(this IEndpointRouteBuilder endpoints)
    {
        var root = endpoints.MapGroup(string.Empty).WithMetadata(AdminEndpointMetadata.Instance);
        root.MapGet("/healthz", HealthAsync);

        // One filter for every call (AddEndpointFilter<T> would make one per request), so its log throttle sees them all.
        var admin = root.MapGroup("/admin").AddEndpointFilterFactory((factory, next) =>
        {
            var filter = factory.ApplicationServices.GetRequiredService<AdminKeyFilter>();
            return context => filter.InvokeAsync(context, next);
        });
        admin.MapPost("/reload", ReloadAsync);
        admin.MapGet("/reloads", (ReloadHistory history) => TypedResults.Ok(new ReloadsView(history.Records)));
        admin.MapGet("/pipeline", Pipeline);
        admin.MapGet("/routes", Routes);
        admin.MapGet("/clusters", Clusters);
        admin.MapGet("/cluster", ClusterAsync);
        admin.MapPost("/cache/purge", PurgeCacheAsync);

        // The admin page and its assets open without the key: the page asks for it and sends it on each call it makes.
        var page = endpoints.ServiceProvider.GetRequiredService<AdminPage>();
        root.MapGet("/admin/", (HttpContext context) => page.ServeAsync(context, AdminPage.Index));
        root.MapGet("/admin/ui/{asset}", (HttpContext context, string asset) => page.ServeAsync(context, asset));
        return root;
    }

    private static Ok<RoutesView> Routes(IProxyStateLookup proxy) => TypedResults.Ok(new RoutesView(
        [.. proxy.GetRoutes()
            .Select(route => route.Config)
            .OrderBy(route => route.RouteId, StringComparer.Ordinal)
            .Select(route => new RouteView(route.RouteId, route.ClusterId, route.Match.Path, route.Match.Hosts, route.Match.Methods))]));

    private static Ok<ClustersView> Clusters(IProxyStateLookup proxy) => TypedResults.Ok(new ClustersView(
        [.. proxy.GetClusters()
            .OrderBy(cluster => cluster.ClusterId, StringComparer.Ordinal)
            .Select(cluster => new ClusterView(
                cluster.ClusterId,
                cluster.Model.Config.LoadBalancingPolicy,
                cluster.DestinationsState.AvailableDestinations.Count,
                [.. cluster.DestinationsState.AllDestinations
                    .OrderBy(destination => destination.DestinationId, StringComparer.Ordinal)
                    .Select(destination => new DestinationView(
                        destination.DestinationId,
                        destination.Model.Config.Address,
                        Health(destination.Health.Active),
                        Health(destination.Health.Passive),
                        destination.ConcurrentRequestCount))]))]));

    private static string Health(DestinationHealth health) => health switch
    {
        DestinationHealth.Healthy => "healthy",
        DestinationHealth.Unhealthy => "unhealthy",
        _ => "unknown",
    };

    // Degraded still answers 200: the gateway serves, without the shared cache or alone. Redis is asked afresh on every call.
    private static async Task<Ok<HealthView>> HealthAsync(
        PipelineInspector pipeline, CacheHealth cache, IDistributedCache shared, [FromServices] ClusterNode? cluster, CancellationToken cancellationToken)
    {
        if (shared is ResilientDistributedCache redis)
        {
            await redis.ProbeAsync(cancellationToken).ConfigureAwait(false);
        }
        var healthy = cache.LastError is null && cluster?.LastError is null;
        return TypedResults.Ok(new HealthView(
            healthy ? "healthy" : "degraded",
            pipeline.Describe()?.Generation ?? 0,
            new CacheView(cache.Kind, cache.LastError is null ? "ok" : "failing", cache.LastError),
            cluster is null ? null : new ClusterHealthView(cluster.NodeId, cluster.LastError is null ? "ok" : "failing", cluster.LastError)));
    }

    // scope=node (the default) reloads this node; scope=cluster every node of its cluster, answering for each.
    private static async Task<IResult> ReloadAsync(
        PipelineReloader reloader, [FromServices] ClusterNode? cluster, string? scope, CancellationToken cancellationToken)
    {
        if (scope is "cluster")
        {
            return await ReloadClusterAsync(cluster, cancellationToken).ConfigureAwait(false);
        }
        if (scope is not (null or "node"))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"scope must be 'node' or 'cluster', not '{scope}'.");
        }
        var result = await reloader.ReloadAsync(cancellationToken).ConfigureAwait(false);
        if (result.Pipeline is { } pipeline)
        {
            return TypedResults.Ok(pipeline);
        }
        return TypedResults.Problem(
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "The pipeline was rejected; the previous one keeps serving.",
            extensions: new Dictionary<string, object?> { ["errors"] = result.Errors },
            detail: string.Join("\n", result.Errors));
    }

    // 200 when every node applied the reload; 207 when any rejected it (serving its previous pipeline) or did not answer.
    private static async Task<IResult> ReloadClusterAsync(ClusterNode? cluster, CancellationToken cancellationToken)
    {
        if (cluster is null)
        {
            return NotInCluster();
        }
        try
        {
            var reload = await cluster.ReloadAsync(cancellationToken).ConfigureAwait(false);
            return TypedResults.Json(reload, statusCode: reload.AllApplied ? StatusCodes.Status200OK : StatusCodes.Status207MultiStatus);
        }
        catch (ClusterUnavailableException ex)
        {
            return ClusterUnavailable(ex, "No node was asked to reload; reload them one by one with scope=node");
        }
    }

    private static async Task<IResult> ClusterAsync([FromServices] ClusterNode? cluster)
    {
        if (cluster is null)
        {
            return NotInCluster();
        }
        try
        {
            return TypedResults.Ok(await cluster.DescribeAsync().ConfigureAwait(false));
        }
        catch (ClusterUnavailableException ex)
        {
            return ClusterUnavailable(ex, "This node serves on alone");
        }
    }

    private static ProblemHttpResult NotInCluster() => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: $"This node is not in a cluster: set {ClusterOptions.SectionName}:Secret (and ConnectionStrings:Redis) on every node.");

    private static ProblemHttpResult ClusterUnavailable(ClusterUnavailableException ex, string consequence) => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: $"Redis does not answer: {consequence}.",
        detail: ex.Message);

    private static Results<Ok<PipelineReport>, ProblemHttpResult> Pipeline(PipelineInspector pipeline) =>
        pipeline.Describe() is { } report
            ? TypedResults.Ok(report)
            : TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The pipeline has not been loaded yet.");

    // Reaches every caching stage of the serving pipeline that runs on the route (a tag: every caching stage).
    private static async Task<Results<Ok<PurgeView>, ProblemHttpResult>> PurgeCacheAsync(
        PurgeRequest purge, PipelineInspector pipeline, IProxyStateLookup proxy, CancellationToken cancellationToken)
    {
        if (purge.Tag is { Length: > 0 } tag && purge.Route is null && purge.Key is null)
        {
            return Purged(await pipeline.PurgeTagAsync(tag, cancellationToken).ConfigureAwait(false), "No caching stage is in the pipeline.", purge);
        }
        if (string.IsNullOrWhiteSpace(purge.Route) || purge.Key is { Length: 0 } || purge.Tag is not null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Give \"route\" (and \"key\" to purge one key instead of the whole route), or \"tag\" alone.");
        }
        if (!proxy.TryGetRoute(purge.Route, out _))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No route '{purge.Route}' is configured.");
        }
        var stages = await pipeline.PurgeRouteAsync(purge.Route, purge.Key, cancellationToken).ConfigureAwait(false);
        return Purged(stages, $"No caching stage runs on route '{purge.Route}'.", purge);
    }

    private static Results<Ok<PurgeView>, ProblemHttpResult> Purged(IReadOnlyList<string> stages, string noneTitle, PurgeRequest request) =>
        stages.Count == 0
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: noneTitle)
            : TypedResults.Ok(new PurgeView(request.Route, request.Key, request.Tag, stages));

    private sealed record PurgeRequest(string? Route, string? Key, string? Tag);

    private sealed record PurgeView(
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Route,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Tag,
        IReadOnlyList<string> Stages);

    private sealed record ReloadsView(IReadOnlyList<ReloadRecord> Reloads);

    private sealed record RoutesView(IReadOnlyList<RouteView> Routes);

    private sealed record RouteView(
        string Id,
        string? Cluster,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Path,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Hosts,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Methods);

    private sealed record ClustersView(IReadOnlyList<ClusterView> Clusters);

    /// <param name="Available">Destinations the load balancer may pick from now (YARP's health policy applied).</param>
    private sealed record ClusterView(
        string Id,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LoadBalancingPolicy,
        int Available,
        IReadOnlyList<DestinationView> Destinations);

    /// <param name="Active">What the active health probes say: healthy, unhealthy, or unknown (not probed).</param>
    /// <param name="Passive">What failed requests say.</param>
    /// <param name="InFlight">Requests being forwarded to it now.</param>
    private sealed record DestinationView(string Id, string Address, string Active, string Passive, int InFlight);

    private sealed record HealthView(
        string Status,
        int Generation,
        CacheView Cache,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ClusterHealthView? Cluster);

    private sealed record ClusterHealthView(string Node, string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

    private sealed record CacheView(string Kind, string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);
}

using System.Text.Json.Serialization;
using Gateway.Admin;
using Gateway.Caching;
using Gateway.Pipeline;
using Gateway.Plugins;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Caching.Distributed;
using Yarp.ReverseProxy;

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
        admin.MapGet("/pipeline", Pipeline);
        admin.MapPost("/cache/purge", PurgeCacheAsync);
        return root;
    }

    // Degraded still answers 200: the gateway serves, without the shared cache. Redis is asked afresh on every call.
    private static async Task<Ok<HealthView>> HealthAsync(PipelineHolder holder, CacheHealth cache, IDistributedCache shared, CancellationToken cancellationToken)
    {
        if (shared is ResilientDistributedCache redis)
        {
            await redis.ProbeAsync(cancellationToken).ConfigureAwait(false);
        }
        return TypedResults.Ok(new HealthView(
            cache.LastError is null ? "healthy" : "degraded",
            holder.Current?.Generation ?? 0,
            new CacheView(cache.Kind, cache.LastError is null ? "ok" : "failing", cache.LastError)));
    }

    private static async Task<Results<Ok<PipelineView>, ProblemHttpResult>> ReloadAsync(PipelineReloader reloader, PipelineHolder holder, CancellationToken cancellationToken)
    {
        var result = await reloader.ReloadAsync(cancellationToken).ConfigureAwait(false);
        if (result.Snapshot is { } snapshot)
        {
            return TypedResults.Ok(PipelineView.From(snapshot, holder));
        }
        return TypedResults.Problem(
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "The pipeline was rejected; the previous one keeps serving.",
            extensions: new Dictionary<string, object?> { ["errors"] = result.Errors },
            detail: string.Join("\n", result.Errors));
    }

    private static Results<Ok<PipelineView>, ProblemHttpResult> Pipeline(PipelineHolder holder) =>
        holder.Current is { } snapshot
            ? TypedResults.Ok(PipelineView.From(snapshot, holder))
            : TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The pipeline has not been loaded yet.");

    // Reaches every caching stage of the serving pipeline that runs on the route (a tag: every caching stage).
    private static async Task<Results<Ok<PurgeView>, ProblemHttpResult>> PurgeCacheAsync(
        PurgeRequest purge, PipelineHolder holder, IProxyStateLookup proxy, CancellationToken cancellationToken)
    {
        if (purge.Tag is { Length: > 0 } tag && purge.Route is null && purge.Key is null)
        {
            return await PurgeStagesAsync(holder, _ => true, "No caching stage is in the pipeline.",
                cache => cache.PurgeTagAsync(tag, cancellationToken), purge).ConfigureAwait(false);
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
        var route = purge.Route;
        return await PurgeStagesAsync(holder, stage => stage.AppliesTo(route), $"No caching stage runs on route '{route}'.",
            cache => purge.Key is { } key ? cache.PurgeKeyAsync(route, key, cancellationToken) : cache.PurgeRouteAsync(route, cancellationToken),
            purge).ConfigureAwait(false);
    }

    // Holds the serving snapshot while its chosen caching stages purge, so none of them is unloaded meanwhile.
    private static async Task<Results<Ok<PurgeView>, ProblemHttpResult>> PurgeStagesAsync(
        PipelineHolder holder, Func<PipelineStage, bool> chosen, string noneTitle, Func<IResponseCache, ValueTask> purge, PurgeRequest request)
    {
        var snapshot = holder.Acquire();
        try
        {
            var stages = snapshot.Stages.Where(stage => stage.Cache is not null && chosen(stage)).ToArray();
            if (stages.Length == 0)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: noneTitle);
            }
            foreach (var stage in stages)
            {
                await purge(stage.Cache!).ConfigureAwait(false);
            }
            return TypedResults.Ok(new PurgeView(request.Route, request.Key, request.Tag, stages.Select(stage => stage.Entry.DisplayName).ToArray()));
        }
        finally
        {
            snapshot.Release();
        }
    }

    private sealed record PurgeRequest(string? Route, string? Key, string? Tag);

    private sealed record PurgeView(
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Route,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Tag,
        IReadOnlyList<string> Stages);

    private sealed record HealthView(string Status, int Generation, CacheView Cache);

    private sealed record CacheView(string Kind, string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);
}

using Gateway.Plugins;

namespace Gateway.Pipeline;

/// <summary>
/// What the admin API may do with the serving pipeline: describe it, and purge its response caches. Callers never
/// touch snapshots or stages; each call holds the snapshot it works on, so no plugin is unloaded under it.
/// </summary>
internal sealed class PipelineInspector(PipelineHolder holder)
{
    /// <summary>The serving pipeline with each entry's counters; null before the first load.</summary>
    public PipelineReport? Describe() => holder.Current is { } snapshot ? PipelineReport.From(snapshot, holder.Retiring) : null;

    /// <summary>Purges a tag from every caching stage.</summary>
    /// <returns>The stages purged; empty when no stage caches.</returns>
    public Task<IReadOnlyList<string>> PurgeTagAsync(string tag, CancellationToken cancellationToken) =>
        PurgeAsync(_ => true, cache => cache.PurgeTagAsync(tag, cancellationToken));

    /// <summary>Purges a route, or one key of it, from every caching stage that runs on the route.</summary>
    /// <returns>The stages purged; empty when no caching stage runs on it.</returns>
    public Task<IReadOnlyList<string>> PurgeRouteAsync(string routeId, string? key, CancellationToken cancellationToken) =>
        PurgeAsync(stage => stage.AppliesTo(routeId),
            cache => key is null ? cache.PurgeRouteAsync(routeId, cancellationToken) : cache.PurgeKeyAsync(routeId, key, cancellationToken));

    private async Task<IReadOnlyList<string>> PurgeAsync(Func<PipelineStage, bool> chosen, Func<IResponseCache, ValueTask> purge)
    {
        var snapshot = holder.Acquire();
        try
        {
            var purged = new List<string>();
            foreach (var stage in snapshot.Stages)
            {
                if (stage.Cache is { } cache && chosen(stage))
                {
                    await purge(cache).ConfigureAwait(false);
                    purged.Add(stage.Entry.DisplayName);
                }
            }
            return purged;
        }
        finally
        {
            snapshot.Release();
        }
    }
}

using System.Collections.Frozen;
using System.Collections.Immutable;
using Gateway.Loading;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Pipeline;

/// <summary>
/// One immutable generation of the pipeline: its entries, live stages, the routes it was validated with and a composed
/// chain for each, and the plugin assemblies they came from. Requests hold a reference while they run; once retired and
/// released by the last one, the snapshot disposes its plugins and unloads their assemblies.
/// </summary>
internal sealed class PipelineSnapshot
{
    // Each route's configuration as YARP serves it and the stages that run on it.
    private readonly FrozenDictionary<string, (RouteConfig Route, StageChain Chain)> _routes;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Starts at one: the holder's reference, dropped when the snapshot is retired.
    private int _references = 1;

    public PipelineSnapshot(
        int generation,
        DateTimeOffset loadedAt,
        ImmutableArray<PipelineEntry> entries,
        ImmutableArray<PipelineStage> stages,
        ImmutableArray<LoadedPluginAssembly> assemblies,
        IReadOnlyList<RouteConfig> routes,
        string sourcesHash)
    {
        Generation = generation;
        LoadedAt = loadedAt;
        Entries = entries;
        Stages = stages;
        Assemblies = assemblies;
        Hash = PipelineHash.Of(sourcesHash, stages);

        // Routes whose entries select the same stages share one chain.
        var chains = new Dictionary<string, StageChain>(StringComparer.Ordinal);
        _routes = routes.ToFrozenDictionary(
            route => route.RouteId,
            route =>
            {
                var applied = stages.Where(stage => stage.AppliesTo(route.RouteId)).ToImmutableArray();
                var key = string.Join(",", applied.Select(stage => stage.Entry.Index));
                if (!chains.TryGetValue(key, out var chain))
                {
                    chains.Add(key, chain = new StageChain(applied));
                }
                return (route, chain);
            },
            StringComparer.OrdinalIgnoreCase);
    }

    public int Generation { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>What this snapshot serves, as <see cref="PipelineHash"/> computes it.</summary>
    public string Hash { get; }

    /// <summary>Every entry of the file, disabled ones included, in file order.</summary>
    public ImmutableArray<PipelineEntry> Entries { get; }

    /// <summary>The enabled entries' stages, in file order.</summary>
    public ImmutableArray<PipelineStage> Stages { get; }

    public ImmutableArray<LoadedPluginAssembly> Assemblies { get; }

    /// <summary>Completes when the snapshot is retired and its last request has finished.</summary>
    public Task Drained => _drained.Task;

    /// <summary>The stages for a request YARP routed with <paramref name="route"/>.</summary>
    /// <returns>Null when this snapshot was not validated with that route: YARP routed the request by another
    /// generation's configuration, whose snapshot must run it.</returns>
    public StageChain? ChainFor(RouteConfig route) =>
        _routes.TryGetValue(route.RouteId, out var served) && ReferenceEquals(served.Route, route) ? served.Chain : null;

    /// <summary>This snapshot's configuration of a route, if it has one.</summary>
    public RouteConfig? Route(string routeId) => _routes.TryGetValue(routeId, out var served) ? served.Route : null;

    /// <summary>Takes a reference for a request; fails once the snapshot has drained.</summary>
    public bool TryAcquire()
    {
        var references = Volatile.Read(ref _references);
        while (references > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, references + 1, references);
            if (seen == references)
            {
                return true;
            }
            references = seen;
        }
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Disposes the plugin instances, then unloads their assemblies. Call only after <see cref="Drained"/>.</summary>
    /// <returns>Unload steps that failed, for the log.</returns>
    public async Task<IReadOnlyList<string>> DisposeAsync()
    {
        var failures = new List<string>();
        foreach (var stage in Stages)
        {
            try
            {
                await stage.DisposePluginAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failures.Add($"{stage.Entry.DisplayName} threw on dispose: {ex.Message}");
            }
        }
        foreach (var assembly in Assemblies)
        {
            failures.AddRange(assembly.Unload().Select(failure => $"{assembly.Name}: {failure}"));
        }
        return failures;
    }
}

using System.Collections.Frozen;
using System.Collections.Immutable;
using Gateway.Loading;

namespace Gateway.Pipeline;

/// <summary>
/// One immutable generation of the pipeline: its entries, live stages, a composed chain per route, and the plugin
/// assemblies they came from. Requests hold a reference while they run; once retired and released by the last one,
/// the snapshot disposes its plugins and unloads their assemblies.
/// </summary>
internal sealed class PipelineSnapshot
{
    private readonly FrozenDictionary<string, StageChain> _routeChains;
    private readonly StageChain _everyRouteChain;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Starts at one: the holder's reference, dropped when the snapshot is retired.
    private int _references = 1;

    public PipelineSnapshot(
        int generation,
        DateTimeOffset loadedAt,
        ImmutableArray<PipelineEntry> entries,
        ImmutableArray<PipelineStage> stages,
        ImmutableArray<LoadedPluginAssembly> assemblies)
    {
        Generation = generation;
        LoadedAt = loadedAt;
        Entries = entries;
        Stages = stages;
        Assemblies = assemblies;

        _everyRouteChain = new StageChain(stages.Where(stage => stage.Entry.AllRoutes).ToImmutableArray());
        _routeChains = stages
            .SelectMany(stage => stage.Entry.Routes)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToFrozenDictionary(
                route => route,
                route => new StageChain(stages.Where(stage => stage.AppliesTo(route)).ToImmutableArray()),
                StringComparer.OrdinalIgnoreCase);
    }

    public int Generation { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>Every entry of the file, disabled ones included, in file order.</summary>
    public ImmutableArray<PipelineEntry> Entries { get; }

    /// <summary>The enabled entries' stages, in file order.</summary>
    public ImmutableArray<PipelineStage> Stages { get; }

    public ImmutableArray<LoadedPluginAssembly> Assemblies { get; }

    /// <summary>Completes when the snapshot is retired and its last request has finished.</summary>
    public Task Drained => _drained.Task;

    public StageChain ChainFor(string routeId) =>
        _routeChains.TryGetValue(routeId, out var chain) ? chain : _everyRouteChain;

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

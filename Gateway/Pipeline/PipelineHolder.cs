using System.Collections.Immutable;
using Gateway.Loading;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Pipeline;

/// <summary>
/// Holds the serving pipeline snapshot and swaps it atomically. A snapshot belongs with the routes it was validated
/// with, and YARP switches routes a moment apart from the swap, so around a reload two snapshots are reachable: a
/// request runs on the one whose routes YARP matched it with. The previous one is retired shortly after YARP has
/// switched; when its last request finishes it is disposed and its plugin assemblies are unloaded.
/// </summary>
internal sealed partial class PipelineHolder(IOptionsMonitor<GatewayOptions> options, TimeProvider time, ILogger<PipelineHolder> logger)
{
    /// <summary>
    /// How long a replaced snapshot stays reachable after YARP has switched routes, for requests it had routed by the
    /// old ones before switching and that have not reached the pipeline yet.
    /// </summary>
    internal static readonly TimeSpan RoutingGrace = TimeSpan.FromSeconds(1);

    // Cut short by a stop: the server takes no more requests, so none can still be on its way to an old snapshot.
    private readonly CancellationTokenSource _stopping = new();

    private PipelineSnapshot? _current;

    // Snapshots besides the current one that a request may still need: one staged while YARP switches to its routes,
    // those replaced and still in their routing grace.
    private ImmutableArray<PipelineSnapshot> _others = [];
    private int _retiring;

    /// <summary>The snapshot new requests get; null only before the first load.</summary>
    public PipelineSnapshot? Current => Volatile.Read(ref _current);

    /// <summary>Completes when every snapshot retired so far has drained and unloaded.</summary>
    public Task Retirements { get; private set; } = Task.CompletedTask;

    /// <summary>Snapshots replaced and not yet drained, unloaded and collected.</summary>
    public int Retiring => Volatile.Read(ref _retiring);

    /// <summary>Takes a reference on the current snapshot, retrying if a swap retires it in between.</summary>
    public PipelineSnapshot Acquire()
    {
        while (true)
        {
            var snapshot = Current ?? throw new InvalidOperationException("The pipeline has not been loaded yet.");
            if (snapshot.TryAcquire())
            {
                return snapshot;
            }
        }
    }

    /// <summary>Takes a reference on the snapshot validated with the route YARP matched a request with.</summary>
    /// <returns>Null when no reachable snapshot has that route: it belonged to a configuration long replaced.</returns>
    public PipelineSnapshot? AcquireFor(RouteConfig route, out StageChain chain)
    {
        // The current one first; a staged or replaced one only around a reload.
        foreach (var snapshot in (ReadOnlySpan<PipelineSnapshot?>)[Current, .. _others])
        {
            if (snapshot?.ChainFor(route) is { } found && snapshot.TryAcquire())
            {
                chain = found;
                return snapshot;
            }
        }
        chain = null!;
        return null;
    }

    /// <summary>Makes <paramref name="next"/> reachable before its routes are handed to YARP. Callers serialize swaps.</summary>
    public void Stage(PipelineSnapshot next) => ImmutableInterlocked.Update(ref _others, others => others.Add(next));

    /// <summary>Withdraws a staged snapshot YARP did not take; the caller disposes it.</summary>
    public void Unstage(PipelineSnapshot next) => ImmutableInterlocked.Update(ref _others, others => others.Remove(next));

    /// <summary>Makes a staged snapshot current once YARP serves its routes, and retires the previous one after the routing grace.</summary>
    public void Promote(PipelineSnapshot next)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        ImmutableInterlocked.Update(ref _others, others => previous is null ? others.Remove(next) : others.Remove(next).Add(previous));
        if (previous is not null)
        {
            Interlocked.Increment(ref _retiring);
            Retirements = Task.WhenAll(Retirements, RetireAsync(previous, RoutingGrace));
        }
    }

    /// <summary>Retires the current snapshot without a successor, when the gateway stops.</summary>
    /// <returns>Completes when every retired snapshot has drained and unloaded; routing graces still running are cut short.</returns>
    public Task RetireAllAsync()
    {
        _stopping.Cancel();
        if (Interlocked.Exchange(ref _current, null) is { } current)
        {
            Interlocked.Increment(ref _retiring);
            Retirements = Task.WhenAll(Retirements, RetireAsync(current, TimeSpan.Zero));
        }
        return Retirements;
    }

    private async Task RetireAsync(PipelineSnapshot snapshot, TimeSpan grace)
    {
        try
        {
            if (grace > TimeSpan.Zero)
            {
                await Task.Delay(grace, time, _stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                ImmutableInterlocked.Update(ref _others, others => others.Remove(snapshot));
            }
            await DrainAndUnloadAsync(snapshot).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _retiring);
        }
    }

    private async Task DrainAndUnloadAsync(PipelineSnapshot snapshot)
    {
        snapshot.Release();
        var warnAfter = options.CurrentValue.DrainWarningAfter;
        try
        {
            await snapshot.Drained.WaitAsync(warnAfter, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.DrainSlow(logger, snapshot.Generation, warnAfter);
            await snapshot.Drained.ConfigureAwait(false);
        }

        var failures = await snapshot.DisposeAsync().ConfigureAwait(false);
        foreach (var failure in failures)
        {
            Log.UnloadStepFailed(logger, snapshot.Generation, failure);
        }
        if (!UnloadedContexts.Collect(snapshot.Assemblies))
        {
            Log.ContextsStillAlive(logger, snapshot.Generation);
        }
        Log.Retired(logger, snapshot.Generation, snapshot.Assemblies.Length);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.PipelineDrainSlow, LogLevel.Warning, "Pipeline generation {Generation} still has requests in flight after {Wait}; its plugins stay loaded until they finish.")]
        public static partial void DrainSlow(ILogger logger, int generation, TimeSpan wait);

        [LoggerMessage(EventIds.PipelineUnloadStepFailed, LogLevel.Warning, "Unloading pipeline generation {Generation}: {Failure}")]
        public static partial void UnloadStepFailed(ILogger logger, int generation, string failure);

        [LoggerMessage(EventIds.PipelineContextsStillAlive, LogLevel.Warning, "Pipeline generation {Generation} was unloaded, but a plugin's load context is still referenced: something holds an object of the plugin (see Gateway/Loading/README.md).")]
        public static partial void ContextsStillAlive(ILogger logger, int generation);

        [LoggerMessage(EventIds.PipelineRetired, LogLevel.Debug, "Pipeline generation {Generation} drained and unloaded {AssemblyCount} plugin assemblies.")]
        public static partial void Retired(ILogger logger, int generation, int assemblyCount);
    }
}

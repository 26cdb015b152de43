using Microsoft.Extensions.Options;

namespace Gateway.Pipeline;

/// <summary>
/// Holds the current pipeline snapshot and swaps it atomically. The previous one keeps serving the requests that
/// hold it; when the last of them finishes it is disposed and its plugin assemblies are unloaded.
/// </summary>
internal sealed partial class PipelineHolder(IOptionsMonitor<GatewayOptions> options, ILogger<PipelineHolder> logger)
{
    private PipelineSnapshot? _current;

    /// <summary>The snapshot new requests get; null only before the first load.</summary>
    public PipelineSnapshot? Current => Volatile.Read(ref _current);

    /// <summary>Completes when every snapshot retired so far has drained and unloaded.</summary>
    public Task Retirements { get; private set; } = Task.CompletedTask;

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

    /// <summary>Makes <paramref name="next"/> current and retires the previous snapshot. Callers serialize swaps.</summary>
    public void Swap(PipelineSnapshot next)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        if (previous is not null)
        {
            Retirements = Task.WhenAll(Retirements, RetireAsync(previous));
        }
    }

    /// <summary>Retires the current snapshot without a successor, when the gateway stops.</summary>
    /// <returns>Completes when every retired snapshot has drained and unloaded.</returns>
    public Task RetireAllAsync()
    {
        if (Interlocked.Exchange(ref _current, null) is { } previous)
        {
            Retirements = Task.WhenAll(Retirements, RetireAsync(previous));
        }
        return Retirements;
    }

    private async Task RetireAsync(PipelineSnapshot snapshot)
    {
        snapshot.Release();
        var warnAfter = options.CurrentValue.DrainWarningAfter;
        try
        {
            await snapshot.Drained.WaitAsync(warnAfter).ConfigureAwait(false);
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
        Log.Retired(logger, snapshot.Generation, snapshot.Assemblies.Length);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.PipelineDrainSlow, LogLevel.Warning, "Pipeline generation {Generation} still has requests in flight after {Wait}; its plugins stay loaded until they finish.")]
        public static partial void DrainSlow(ILogger logger, int generation, TimeSpan wait);

        [LoggerMessage(EventIds.PipelineUnloadStepFailed, LogLevel.Warning, "Unloading pipeline generation {Generation}: {Failure}")]
        public static partial void UnloadStepFailed(ILogger logger, int generation, string failure);

        [LoggerMessage(EventIds.PipelineRetired, LogLevel.Debug, "Pipeline generation {Generation} drained and unloaded {AssemblyCount} plugin assemblies.")]
        public static partial void Retired(ILogger logger, int generation, int assemblyCount);
    }
}

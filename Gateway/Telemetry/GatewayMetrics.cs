using System.Diagnostics.Metrics;
using Gateway.Caching;
using Gateway.Pipeline;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's own instruments, on the meter named <c>Gateway</c>. Each is observed when a reader collects, from the
/// figures <c>/admin/pipeline</c> and <c>/healthz</c> show, so a request pays nothing for them. The counters of a
/// stage belong to its generation: they start again from zero at a reload, which Prometheus and OpenTelemetry read as
/// a counter reset.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "Gateway";

    public GatewayMetrics(IMeterFactory meters, PipelineHolder holder, PipelineReloader reloader, CacheHealth cache)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter<long>("gateway.reloads", () =>
            [new(reloader.Applied, Outcome("applied")), new(reloader.RejectedCount, Outcome("rejected"))],
            "{reload}", "Reloads by outcome: applied (the start's included) or rejected, the previous generation serving on.");
        meter.CreateObservableGauge("gateway.pipeline.generation", () => holder.Current?.Generation ?? 0,
            "{generation}", "The pipeline generation serving.");
        meter.CreateObservableUpDownCounter("gateway.pipeline.retiring", () => holder.Retiring,
            "{generation}", "Generations replaced and not yet drained, unloaded and collected (their plugins' load contexts still alive).");
        meter.CreateObservableCounter("gateway.stage.calls", () => Stages(holder, stage => stage.Counters.Calls),
            "{call}", "Calls of each pipeline entry in the serving generation.");
        meter.CreateObservableCounter("gateway.stage.errors", () => Stages(holder, stage => stage.Counters.Errors),
            "{error}", "Failures of each pipeline entry in the serving generation (a script's bound breaches included).");
        meter.CreateObservableCounter("gateway.stage.time", () => StageTimes(holder),
            "s", "Time spent in each entry itself, not in the stages after it or the upstream; measured on a sample of requests and extrapolated.");
        meter.CreateObservableCounter("gateway.script.breaches", () => Stages(holder, stage => stage.Sandbox?.Breaches),
            "{call}", "Script calls stopped by a sandbox bound (time, statements, memory, recursion).");
        meter.CreateObservableCounter("gateway.plugin.counter", () => PluginCounters(holder),
            "{event}", "The counters a plugin reports (IReportsCounters), such as Retry's retries or Gslb's failovers, by entry and name.");
        meter.CreateObservableGauge("gateway.cache.healthy", () => new Measurement<int>(cache.LastError is null ? 1 : 0, new KeyValuePair<string, object?>("gateway.cache.kind", cache.Kind)),
            "1", "Whether the shared cache answered its last operation (Redis); 0 while it fails and requests are served uncached.");
    }

    private static KeyValuePair<string, object?>[] Outcome(string outcome) => [new("gateway.reload.outcome", outcome)];

    private static KeyValuePair<string, object?>[] Entry(PipelineStage stage) =>
        [new("gateway.entry.index", stage.Entry.Index), new("gateway.entry", stage.Entry.Name)];

    private static IEnumerable<Measurement<long>> Stages(PipelineHolder holder, Func<PipelineStage, long?> read)
    {
        if (holder.Current is not { } snapshot)
        {
            yield break;
        }
        foreach (var stage in snapshot.Stages)
        {
            if (read(stage) is { } value)
            {
                yield return new Measurement<long>(value, Entry(stage));
            }
        }
    }

    private static IEnumerable<Measurement<double>> StageTimes(PipelineHolder holder) =>
        holder.Current is { } snapshot
            ? snapshot.Stages.Select(stage => new Measurement<double>(stage.Counters.TimeSpent.TotalSeconds, Entry(stage)))
            : [];

    private static IEnumerable<Measurement<long>> PluginCounters(PipelineHolder holder)
    {
        if (holder.Current is not { } snapshot)
        {
            yield break;
        }
        foreach (var stage in snapshot.Stages)
        {
            if (stage.OwnCounters is not { } own)
            {
                continue;
            }
            foreach (var (name, value) in own.Counters)
            {
                yield return new Measurement<long>(value,
                    [new("gateway.entry.index", stage.Entry.Index), new("gateway.entry", stage.Entry.Name), new("gateway.counter", name)]);
            }
        }
    }
}

using System.Collections.Immutable;
using Gateway.Plugins;

namespace Gateway.Pipeline;

/// <summary>The stages that run on one route, composed once into a single delegate.</summary>
internal sealed class StageChain
{
    public StageChain(ImmutableArray<PipelineStage> stages)
    {
        Stages = stages;
        var entry = ForwarderHandoff.Terminal;
        for (var i = stages.Length - 1; i >= 0; i--)
        {
            entry = stages[i].Bind(entry);
        }
        Entry = entry;
        IsFilterOnly = stages.All(stage => stage.IsFilter);
        NeedsThreadPool = stages.Any(stage => stage.NeedsThreadPool);
    }

    public ImmutableArray<PipelineStage> Stages { get; }

    /// <summary>The first stage, bound to the rest; the terminal alone when there are no stages.</summary>
    public PluginDelegate Entry { get; }

    public bool IsEmpty => Stages.IsEmpty;

    /// <summary>
    /// Whether every stage is a filter, so the runner can call their steps itself instead of going through
    /// <see cref="Entry"/>: no stage then holds an asynchronous frame across the upstream call.
    /// </summary>
    public bool IsFilterOnly { get; }

    /// <summary>
    /// Whether a stage's step must start on the thread pool (<see cref="PipelineStage.NeedsThreadPool"/>): then the
    /// forwarder's signals to the stages (headers in, forwarding done) and the response steps are given from there too.
    /// </summary>
    public bool NeedsThreadPool { get; }
}

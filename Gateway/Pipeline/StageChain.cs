using System.Collections.Immutable;
using Gateway.Plugins;

namespace Gateway.Pipeline;

/// <summary>The stages that run on one route, composed once into a single delegate.</summary>
internal sealed class StageChain
{
    public StageChain(ImmutableArray<PipelineStage> stages)
    {
        Stages = stages;
        var entry = ProxyRequestContext.Terminal;
        for (var i = stages.Length - 1; i >= 0; i--)
        {
            entry = stages[i].Bind(entry);
        }
        Entry = entry;
    }

    public ImmutableArray<PipelineStage> Stages { get; }

    /// <summary>The first stage, bound to the rest; the terminal alone when there are no stages.</summary>
    public PluginDelegate Entry { get; }

    public bool IsEmpty => Stages.IsEmpty;
}

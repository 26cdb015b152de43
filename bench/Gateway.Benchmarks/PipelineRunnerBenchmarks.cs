using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Gateway.Pipeline;
using Gateway.Plugins;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// The in-process cost of the pipeline runner per request: the middleware YARP calls, with a stand-in for YARP's
/// forwarding. <see cref="Upstream"/> <c>Sync</c>: forwarding completes at once (the floor; with no stage this path
/// must allocate nothing). <c>Deferred</c>: forwarding waits for the upstream's answer, as every proxied request does,
/// then runs the response transform; the benchmark answers at once on the same thread. No-op middleware plugins and
/// no-op filters, the two shapes a plugin can take.
/// </summary>
[MemoryDiagnoser]
public class PipelineRunnerBenchmarks
{
    private readonly RequestSignal _gate = new();
    private PipelineMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;

    [Params(0, 1, 5)]
    public int NoOpPlugins { get; set; }

    [Params(UpstreamKind.Sync, UpstreamKind.Deferred)]
    public UpstreamKind Upstream { get; set; }

    /// <summary>Whether the no-op plugins are middleware (<see cref="IGatewayPlugin"/>) or filters (<see cref="IGatewayFilter"/>).</summary>
    [Params(false, true)]
    public bool Filters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var entries = Enumerable.Range(0, NoOpPlugins)
            .Select(i => new PipelineEntry(i, StageKind.Plugin, "NoOp", [], Enabled: true, BenchmarkPipeline.EmptyConfig))
            .ToImmutableArray();
        var stages = entries.Select(entry => new PipelineStage(entry, Filters ? new NoOpFilter() : new NoOpPlugin(), "1.0.0", "sha256:bench")).ToImmutableArray();
        _middleware = BenchmarkPipeline.CreateMiddleware(entries, stages, Upstream, _gate);
        _context = BenchmarkPipeline.CreateContext();
    }

    [Benchmark]
    public Task RunPipeline() => BenchmarkPipeline.Run(_middleware, _context, Upstream, _gate);

    private sealed class NoOpPlugin : IGatewayPlugin
    {
        public ValueTask InvokeAsync(PluginContext context, PluginDelegate next) => next(context);
    }

    private sealed class NoOpFilter : IGatewayFilter
    {
        public ValueTask<bool> OnRequestAsync(PluginContext context) => new(true);

        public void OnResponse(PluginContext context)
        {
        }
    }
}

using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Gateway.Pipeline;
using Gateway.Plugins;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// The in-process cost of the pipeline runner per request: the middleware YARP calls, with a stand-in for YARP's
/// forwarding. <see cref="Upstream"/> <c>Sync</c>: forwarding completes at once (the floor; with no stage this path
/// must allocate nothing). <c>Async</c>: forwarding yields once, as a real upstream call does, then runs the response
/// transform that holds the headers for the stages — the path every proxied request takes.
/// </summary>
[MemoryDiagnoser]
public class PipelineRunnerBenchmarks
{
    private PipelineMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;

    public enum UpstreamKind
    {
        Sync,
        Async,
    }

    [Params(0, 1, 5)]
    public int NoOpPlugins { get; set; }

    [Params(UpstreamKind.Sync, UpstreamKind.Async)]
    public UpstreamKind Upstream { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var entries = Enumerable.Range(0, NoOpPlugins)
            .Select(i => new PipelineEntry(i, StageKind.Plugin, "NoOp", [], Enabled: true, BenchmarkPipeline.EmptyConfig))
            .ToImmutableArray();
        var stages = entries.Select(entry => new PipelineStage(entry, new NoOpPlugin(), "1.0.0")).ToImmutableArray();
        _middleware = BenchmarkPipeline.CreateMiddleware(entries, stages, asyncUpstream: Upstream == UpstreamKind.Async);
        _context = BenchmarkPipeline.CreateContext();
    }

    [Benchmark]
    public Task RunPipeline() => _middleware.InvokeAsync(_context);

    private sealed class NoOpPlugin : IGatewayPlugin
    {
        public ValueTask InvokeAsync(PluginContext context, PluginDelegate next) => next(context);
    }
}

using System.Collections.Immutable;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Pipeline;
using Gateway.Scripting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// What a script stage adds per request: the runner with no stage against the runner with the shipped
/// <c>scripts/tag.js</c> (a request header in <c>onRequest</c>, a response header in <c>onResponse</c>), with the
/// default sandbox bounds. The difference between the two rows of one <see cref="Upstream"/> is the stage's cost.
/// </summary>
[MemoryDiagnoser]
public class ScriptStageBenchmarks
{
    private readonly RequestSignal _gate = new();
    private PipelineMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;

    public enum StageKindUnderTest
    {
        None,
        TagJs,
    }

    [Params(StageKindUnderTest.None, StageKindUnderTest.TagJs)]
    public StageKindUnderTest Stage { get; set; }

    [Params(UpstreamKind.Sync, UpstreamKind.Deferred)]
    public UpstreamKind Upstream { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var entries = ImmutableArray<PipelineEntry>.Empty;
        var stages = ImmutableArray<PipelineStage>.Empty;
        if (Stage == StageKindUnderTest.TagJs)
        {
            var config = JsonDocument.Parse("""{ "tag": "blue" }""").RootElement;
            var entry = new PipelineEntry(0, StageKind.Script, "scripts/tag.js", [], Enabled: true, config);
            var script = CompiledScript.Compile(entry.Name, Path.Combine(BenchmarkPipeline.RepositoryRoot(), "scripts", "tag.js"));
            var plugin = ScriptPlugin.Load(script, config, new ScriptOptions(), NullLogger.Instance);
            entries = [entry];
            stages = [new PipelineStage(entry, plugin, script.Hash)];
        }
        _middleware = BenchmarkPipeline.CreateMiddleware(entries, stages, Upstream, _gate);
        _context = BenchmarkPipeline.CreateContext();
    }

    [Benchmark]
    public Task RunPipeline() => BenchmarkPipeline.Run(_middleware, _context, Upstream, _gate);
}

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
/// <see cref="StageKindUnderTest.TagJsHoisted"/> is the same hooks with each header object read into a local first:
/// Jint caches a call's callee per call site only when the callee's object is an identifier, so this prices the
/// uncached lookups of <c>ctx.request.headers.set(…)</c>.
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
        TagJsHoisted,
    }

    private const string HoistedTagJs = """
        function onRequest(ctx) {
          const headers = ctx.request.headers;
          headers.set('x-gateway-tag', ctx.config.tag);
        }

        function onResponse(ctx) {
          const headers = ctx.response.headers;
          headers.set('x-gateway-tag', ctx.config.tag);
        }
        """;

    [Params(StageKindUnderTest.None, StageKindUnderTest.TagJs, StageKindUnderTest.TagJsHoisted)]
    public StageKindUnderTest Stage { get; set; }

    [Params(UpstreamKind.Sync, UpstreamKind.Deferred)]
    public UpstreamKind Upstream { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var entries = ImmutableArray<PipelineEntry>.Empty;
        var stages = ImmutableArray<PipelineStage>.Empty;
        if (Stage != StageKindUnderTest.None)
        {
            var config = JsonDocument.Parse("""{ "tag": "blue" }""").RootElement;
            var entry = new PipelineEntry(0, StageKind.Script, "scripts/tag.js", [], Enabled: true, config);
            var script = Stage == StageKindUnderTest.TagJs
                ? CompiledScript.Compile(entry.Name, Path.Combine(BenchmarkPipeline.RepositoryRoot(), "scripts", "tag.js"))
                : CompileHoisted(entry.Name);
            var plugin = ScriptPlugin.Load(script, config, new ScriptOptions(), NullLogger.Instance, TimeProvider.System);
            entries = [entry];
            stages = [new PipelineStage(entry, plugin, version: null, script.Hash)];
        }
        _middleware = BenchmarkPipeline.CreateMiddleware(entries, stages, Upstream, _gate);
        _context = BenchmarkPipeline.CreateContext();
    }

    private static CompiledScript CompileHoisted(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tag-hoisted-{Environment.ProcessId}.js");
        File.WriteAllText(path, HoistedTagJs);
        try
        {
            return CompiledScript.Compile(name, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Benchmark]
    public Task RunPipeline() => BenchmarkPipeline.Run(_middleware, _context, Upstream, _gate);
}

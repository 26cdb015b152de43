using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Scripting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// What one more engine costs a script: made when more calls run it at once than its pool holds, on the request that
/// needs it (running the top level of the shipped <c>scripts/tag.js</c>, freezing the globals, building <c>ctx</c>).
/// The bytes allocated bound what a kept engine holds.
/// </summary>
[MemoryDiagnoser]
public class ScriptEngineBenchmarks
{
    private readonly ScriptOptions _options = new();
    private CompiledScript _script = null!;
    private JsonElement _config;

    [GlobalSetup]
    public void Setup()
    {
        _script = CompiledScript.Compile("scripts/tag.js", Path.Combine(BenchmarkPipeline.RepositoryRoot(), "scripts", "tag.js"));
        _config = JsonDocument.Parse("""{ "tag": "blue" }""").RootElement;
    }

    [Benchmark]
    public void MakeEngine()
    {
        using var engine = new ScriptEngine(_script, _config, _options, NullLogger.Instance, _options.Timeout);
    }
}

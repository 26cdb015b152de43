using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Plugins;
using Gateway.Plugins.Balancing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// The Balancing plugin's pick per request among three candidates, both filter steps called as the pipeline
/// calls them, the upstream answering at once (pinning the pick is the context's cost and not included).
/// </summary>
[MemoryDiagnoser]
public class BalancingBenchmarks
{
    private BalancingPlugin _plugin = null!;
    private BenchmarkPluginContext _context = null!;

    [Params("weighted-round-robin", "consistent-hash", "peak-ewma")]
    public string Policy { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var policy = Policy == "consistent-hash" ? """{ "policy": "consistent-hash", "hashOn": { "header": "x-user" } }""" : $$"""{ "policy": "{{Policy}}" }""";
        var config = $$"""{ "clusters": { "backend": {{policy}} } }""";
        _plugin = new BalancingPlugin(new PluginSetup("Balancing", JsonDocument.Parse(config).RootElement, NullLogger.Instance, new ServiceCollection().BuildServiceProvider()));
        _context = new BenchmarkPluginContext(
        [
            new UpstreamDestination("d1", "http://127.0.0.1:9001/", new Dictionary<string, string> { ["weight"] = "5" }),
            new UpstreamDestination("d2", "http://127.0.0.1:9002/", new Dictionary<string, string> { ["weight"] = "1" }),
            new UpstreamDestination("d3", "http://127.0.0.1:9003/", new Dictionary<string, string> { ["weight"] = "1" }),
        ]);
        _context.HttpContext.Request.Headers["x-user"] = "user-4711";
    }

    [Benchmark]
    public bool Pick() => FilterSteps.Run(_plugin, _context);
}

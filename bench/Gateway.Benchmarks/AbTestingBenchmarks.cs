using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Plugins;
using Gateway.Plugins.AbTesting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// The AbTesting plugin's own cost per request with three variants, both filter steps called as the pipeline calls
/// them, the upstream answering at once: a returning client (sticky cookie, or a hashed user header).
/// </summary>
[MemoryDiagnoser]
public class AbTestingBenchmarks
{
    private AbTestingPlugin _plugin = null!;
    private BenchmarkPluginContext _context = null!;

    [Params("cookie", "header")]
    public string Sticky { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var config = $$"""
            { "name": "checkout", "sticky": { "{{Sticky}}": "{{(Sticky == "cookie" ? "ab" : "x-user")}}" },
              "variants": [ { "name": "a", "weight": 70, "group": { "version": "v1" } },
                            { "name": "b", "weight": 20, "group": { "version": "v2" } },
                            { "name": "c", "weight": 10, "cluster": "canary" } ] }
            """;
        _plugin = new AbTestingPlugin(new PluginSetup("AbTesting", JsonDocument.Parse(config).RootElement, NullLogger.Instance, new ServiceCollection().BuildServiceProvider()));
        _context = new BenchmarkPluginContext();
        var headers = _context.HttpContext.Request.Headers;
        headers.Cookie = "ab=b";
        headers["x-user"] = "user-4711";
    }

    [Benchmark]
    public bool Assign() => FilterSteps.Run(_plugin, _context);
}

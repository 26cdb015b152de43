using System.Net;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Plugins;
using Gateway.Plugins.RateLimit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// The RateLimit plugin's decision for an allowed request with the local store, both filter steps called as the
/// pipeline calls them: a token bucket by client address that never runs dry, with and without the RateLimit fields on
/// the response (which read the key's remaining quota and format it).
/// </summary>
[MemoryDiagnoser]
public class RateLimitBenchmarks
{
    private RateLimitPlugin _plugin = null!;
    private BenchmarkPluginContext _context = null!;

    [Params(false, true)]
    public bool Headers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var config = $$"""{ "headers": {{(Headers ? "true" : "false")}}, "limits": [ { "key": "clientIp", "tokenBucket": { "rate": 100000000, "per": "00:00:01", "burst": 100000000 } } ] }""";
        _plugin = new RateLimitPlugin(new PluginSetup("RateLimit", JsonDocument.Parse(config).RootElement, NullLogger.Instance, new ServiceCollection().BuildServiceProvider()));
        _context = new BenchmarkPluginContext([]);
        _context.HttpContext.Connection.RemoteIpAddress = IPAddress.Parse("10.20.30.40");
    }

    [GlobalCleanup]
    public void Cleanup() => _plugin.Dispose();

    [Benchmark]
    public bool Decide() => FilterSteps.Run(_plugin, _context);
}

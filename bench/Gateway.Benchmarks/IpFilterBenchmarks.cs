using System.Net;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Plugins;
using Gateway.Plugins.IpFilter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// The IpFilter plugin's decision per request, both filter steps called as the pipeline calls them, against a deny
/// list of 1,000 random /24 ranges (merged into as many sorted ranges) and an allow list of 10.0.0.0/8: an IPv4 client
/// that passes (the whole search runs), and an IPv6 one.
/// </summary>
[MemoryDiagnoser]
public class IpFilterBenchmarks
{
    private IpFilterPlugin _plugin = null!;
    private BenchmarkPluginContext _context = null!;

    [Params("10.20.30.40", "::ffff:10.20.30.40", "2001:db8::7")]
    public string Client { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        var deny = Enumerable.Range(0, 1000).Select(_ => $"\"{random.Next(11, 224)}.{random.Next(256)}.{random.Next(256)}.0/24\"");
        var config = $$"""{ "allow": ["10.0.0.0/8", "2001:db8::/32"], "deny": [{{string.Join(", ", deny)}}] }""";
        _plugin = new IpFilterPlugin(new PluginSetup("IpFilter", JsonDocument.Parse(config).RootElement, NullLogger.Instance, new ServiceCollection().BuildServiceProvider()));
        _context = new BenchmarkPluginContext([]);
        _context.HttpContext.Connection.RemoteIpAddress = IPAddress.Parse(Client);
    }

    [Benchmark]
    public bool Decide() => FilterSteps.Run(_plugin, _context);
}

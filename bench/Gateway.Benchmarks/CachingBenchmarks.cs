using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Plugins;
using Gateway.Plugins.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// The Caching plugin's hit path with the in-process cache: key, lookup, freshness, and the stored status, headers and
/// body set on the response (the body handed to the runner, as the gateway writes it). The upstream is never called.
/// </summary>
[MemoryDiagnoser]
public class CachingBenchmarks
{
    private static readonly PluginDelegate Next = static _ => throw new InvalidOperationException("a hit must not go upstream");
    private CachingPlugin _plugin = null!;
    private BenchmarkPluginContext _context = null!;

    [Params(100, 16 * 1024)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddDistributedMemoryCache().BuildServiceProvider();
        _plugin = new CachingPlugin(new PluginSetup("Caching", JsonDocument.Parse("{}").RootElement, NullLogger.Instance, services));
        var now = DateTimeOffset.UtcNow;
        var stored = new StoredResponse
        {
            Status = 200,
            ResponseTime = now.ToUnixTimeMilliseconds(),
            InitialAge = 0,
            FreshnessLifetime = 3_600_000,
            StaleWhileRevalidate = 0,
            StaleIfError = 0,
            Flags = StoredFlags.HasValidator,
            Headers =
            [
                new("Content-Type", "application/json"),
                new("Cache-Control", "public, max-age=3600"),
                new("Date", now.ToString("R")),
                new("ETag", "\"abc123\""),
                new("Server", "Kestrel"),
            ],
            Body = new byte[BodyBytes],
        };
        services.GetRequiredService<IDistributedCache>().Set("gwc:api:0:GET api.example/api/items?page=2", stored.Serialize(), new DistributedCacheEntryOptions());
        _context = new BenchmarkPluginContext();
        var request = _context.HttpContext.Request;
        request.Method = "GET";
        request.Host = new("api.example");
        request.Path = "/api/items";
        request.QueryString = new("?page=2");
        Hit().AsTask().GetAwaiter().GetResult();
        if (_context.DeferredBody.Length != BodyBytes)
        {
            throw new InvalidOperationException("the benchmark's request is not a hit");
        }
    }

    [Benchmark]
    public ValueTask Hit()
    {
        _context.HttpContext.Response.Headers.Clear();
        return _plugin.InvokeAsync(_context, Next);
    }
}

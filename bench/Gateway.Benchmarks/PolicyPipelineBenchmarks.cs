using System.Collections.Immutable;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Loading;
using Gateway.Pipeline;
using Gateway.Plugins;
using Gateway.Plugins.AbTesting;
using Gateway.Plugins.Auth;
using Gateway.Plugins.Balancing;
using Gateway.Plugins.HeaderRewrite;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks;

/// <summary>
/// The pipeline of <c>bench/gateway/policies.json</c> (Auth apikey, HeaderRewrite, AbTesting, Balancing) through the
/// runner, its plugins loaded as the gateway loads them (each into its own collectible context, from <c>plugins/</c>)
/// or referenced by this project (the default context), against the empty pipeline. The runtime does not tier code
/// in a collectible context: it is compiled once, fully optimized but without dynamic PGO, so the two loaded rows
/// differ by what PGO does for the plugins' code.
/// </summary>
[MemoryDiagnoser]
public class PolicyPipelineBenchmarks
{
    private readonly RequestSignal _gate = new();
    private readonly List<LoadedPluginAssembly> _assemblies = [];
    private PipelineMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;

    public enum PluginLoading
    {
        /// <summary>No stage: the baseline.</summary>
        EmptyPipeline,

        /// <summary>As the gateway loads them.</summary>
        Collectible,

        /// <summary>This project's references, in the default context.</summary>
        Referenced,
    }

    [Params(PluginLoading.EmptyPipeline, PluginLoading.Collectible, PluginLoading.Referenced)]
    public PluginLoading Loading { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var entries = ImmutableArray.CreateBuilder<PipelineEntry>();
        var stages = ImmutableArray.CreateBuilder<PipelineStage>();
        if (Loading != PluginLoading.EmptyPipeline)
        {
            var root = BenchmarkPipeline.RepositoryRoot();
            using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "bench", "gateway", "policies.json")));
            var services = new ServiceCollection().AddOptions().AddProblemDetails().BuildServiceProvider();
            foreach (var item in file.RootElement.GetProperty("pipeline").EnumerateArray())
            {
                var name = item.GetProperty("plugin").GetString()!;
                var entry = new PipelineEntry(entries.Count, StageKind.Plugin, name, [], Enabled: true, item.GetProperty("config").Clone());
                var setup = new PluginSetup(name, entry.Config, NullLogger.Instance, services);
                entries.Add(entry);
                stages.Add(new PipelineStage(entry, Create(Path.Combine(root, "plugins"), name, setup), "bench", "sha256:bench"));
            }
        }
        _middleware = BenchmarkPipeline.CreateMiddleware(entries.ToImmutable(), stages.ToImmutable(), UpstreamKind.Deferred, _gate);
        _context = BenchmarkPipeline.CreateContext();
        RunPipeline().GetAwaiter().GetResult();
        if (Loading != PluginLoading.EmptyPipeline && _context.Response.Headers["x-variant"] != "a")
        {
            throw new InvalidOperationException($"the pipeline did not run as configured: status {_context.Response.StatusCode}");
        }
    }

    private IGatewayPlugin Create(string pluginsPath, string name, PluginSetup setup)
    {
        if (Loading == PluginLoading.Collectible)
        {
            var assembly = PluginAssemblyLoader.Load(pluginsPath, name);
            _assemblies.Add(assembly);
            return assembly.CreateInstance(setup);
        }
        return name switch
        {
            "Auth" => new AuthPlugin(setup),
            "HeaderRewrite" => new HeaderRewritePlugin(setup),
            "AbTesting" => new AbTestingPlugin(setup),
            "Balancing" => new BalancingPlugin(setup),
            _ => throw new InvalidOperationException($"policies.json names {name}, which this benchmark does not reference"),
        };
    }

    [Benchmark]
    public Task RunPipeline()
    {
        // Auth takes the key off the request on its way upstream; every row puts it back, so all pay the same.
        _context.Request.Headers["x-api-key"] = "bench-key-0123456789abcdef";
        return BenchmarkPipeline.Run(_middleware, _context, UpstreamKind.Deferred, _gate);
    }

    [GlobalCleanup]
    public void Cleanup() => _assemblies.ForEach(assembly => assembly.Unload());
}

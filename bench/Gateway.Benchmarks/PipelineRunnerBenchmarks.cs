using System.Collections.Immutable;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Errors;
using Gateway.Pipeline;
using Gateway.Plugins;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Benchmarks;

/// <summary>
/// The in-process cost of the pipeline runner per request: the middleware YARP calls, with a terminal that completes
/// at once (the upstream's cost is not the runner's). With no stage it must allocate nothing; with five no-op
/// plugins it shows what the runner adds per stage.
/// </summary>
[MemoryDiagnoser]
public class PipelineRunnerBenchmarks
{
    private PipelineMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;

    [Params(0, 5)]
    public int NoOpPlugins { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddLogging().AddOptions().AddProblemDetails().BuildServiceProvider();
        var holder = new PipelineHolder(services.GetRequiredService<IOptionsMonitor<GatewayOptions>>(), NullLogger<PipelineHolder>.Instance);
        var config = JsonDocument.Parse("{}").RootElement;
        var entries = Enumerable.Range(0, NoOpPlugins)
            .Select(i => new PipelineEntry(i, StageKind.Plugin, "NoOp", [], Enabled: true, config))
            .ToImmutableArray();
        var stages = entries.Select(entry => new PipelineStage(entry, new NoOpPlugin(), "1.0.0")).ToImmutableArray();
        holder.Swap(new PipelineSnapshot(1, DateTimeOffset.UtcNow, entries, stages, []));

        _middleware = new PipelineMiddleware(
            static _ => Task.CompletedTask,
            holder,
            new GatewayProblems(services.GetRequiredService<IProblemDetailsService>()),
            NullLogger<PipelineMiddleware>.Instance);

        var cluster = new ClusterState("backend");
        var destination = new DestinationState("d1", new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:9001/" }));
        _context = new DefaultHttpContext();
        _context.Features.Set<IReverseProxyFeature>(new ReverseProxyFeature
        {
            Route = new RouteModel(new RouteConfig { RouteId = "all", ClusterId = "backend" }, cluster, HttpTransformer.Empty),
            Cluster = new ClusterModel(new ClusterConfig { ClusterId = "backend" }, new HttpMessageInvoker(new SocketsHttpHandler())),
            AllDestinations = destination,
            AvailableDestinations = destination,
        });
    }

    [Benchmark]
    public Task RunPipeline() => _middleware.InvokeAsync(_context);

    private sealed class NoOpPlugin : IGatewayPlugin
    {
        public ValueTask InvokeAsync(PluginContext context, PluginDelegate next) => next(context);
    }
}

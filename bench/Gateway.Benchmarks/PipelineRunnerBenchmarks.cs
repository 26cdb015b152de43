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
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Benchmarks;

/// <summary>
/// The in-process cost of the pipeline runner per request: the middleware YARP calls, with a stand-in for YARP's
/// forwarding. <see cref="Upstream"/> <c>Sync</c>: forwarding completes at once (the floor; with no stage this path
/// must allocate nothing). <c>Async</c>: forwarding yields once, as a real upstream call does, then runs the response
/// transform that holds the headers for the stages — the path every proxied request takes.
/// </summary>
[MemoryDiagnoser]
public class PipelineRunnerBenchmarks
{
    private PipelineMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;

    public enum UpstreamKind
    {
        Sync,
        Async,
    }

    [Params(0, 1, 5)]
    public int NoOpPlugins { get; set; }

    [Params(UpstreamKind.Sync, UpstreamKind.Async)]
    public UpstreamKind Upstream { get; set; }

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
            Upstream == UpstreamKind.Sync ? static _ => Task.CompletedTask : ForwardLikeYarpAsync,
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

    private static async Task ForwardLikeYarpAsync(HttpContext context)
    {
        await Task.Yield();
        await ProxyRequestContext.HoldResponseAsync(new ResponseTransformContext { HttpContext = context, ProxyResponse = null, HeadersCopied = true });
    }

    private sealed class NoOpPlugin : IGatewayPlugin
    {
        public ValueTask InvokeAsync(PluginContext context, PluginDelegate next) => next(context);
    }
}

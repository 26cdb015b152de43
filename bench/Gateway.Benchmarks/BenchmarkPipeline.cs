using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Gateway.Errors;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Benchmarks;

/// <summary>How the stand-in for YARP's forwarding completes.</summary>
public enum UpstreamKind
{
    /// <summary>At once: the runner's own floor.</summary>
    Sync,

    /// <summary>
    /// When the benchmark opens a gate right after the runner returns, on the same thread, then through the response
    /// transform, as a real upstream answers: everything a request suspends and resumes, without the thread hop (an
    /// earlier <c>Async</c> kind yielded to the thread pool instead, and the hop and the wait for it were most of its rows).
    /// </summary>
    Deferred,
}

/// <summary>The pipeline runner as YARP calls it, with a stand-in for YARP's forwarding; shared by the benchmarks.</summary>
internal static class BenchmarkPipeline
{
    public static JsonElement EmptyConfig { get; } = JsonDocument.Parse("{}").RootElement;

    /// <summary>The one route: the snapshot is validated with this configuration and YARP matches requests with it.</summary>
    public static RouteConfig Route { get; } = new() { RouteId = "all", ClusterId = "backend" };

    /// <param name="upstream">How the stand-in for YARP's forwarding completes; see <see cref="UpstreamKind"/>.</param>
    /// <param name="gate">With <see cref="UpstreamKind.Deferred"/>: what the benchmark sets to let the upstream answer.</param>
    public static PipelineMiddleware CreateMiddleware(ImmutableArray<PipelineEntry> entries, ImmutableArray<PipelineStage> stages, UpstreamKind upstream, RequestSignal? gate = null)
    {
        var services = new ServiceCollection().AddLogging().AddOptions().AddProblemDetails().BuildServiceProvider();
        var holder = new PipelineHolder(services.GetRequiredService<IOptionsMonitor<GatewayOptions>>(), TimeProvider.System, NullLogger<PipelineHolder>.Instance);
        var snapshot = new PipelineSnapshot(1, DateTimeOffset.UtcNow, entries, stages, [], [Route], sourcesHash: "bench");
        holder.Stage(snapshot);
        holder.Promote(snapshot);
        var answers = new PipelineResponseWriter(new GatewayProblems(services.GetRequiredService<IProblemDetailsService>()), TimeProvider.System, NullLogger<PipelineResponseWriter>.Instance);
        return new PipelineMiddleware(
            upstream switch
            {
                UpstreamKind.Sync => static _ => Task.CompletedTask,
                _ => context => ForwardWhenOpenAsync(context, gate ?? throw new ArgumentNullException(nameof(gate))),
            },
            holder,
            answers,
            new NoClusters(),
            new DetachedRequests(services, services.GetRequiredService<IOptions<GatewayOptions>>(), answers, new Microsoft.Extensions.Hosting.Internal.ApplicationLifetime(NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance),
                TimeProvider.System, NullLogger<DetachedRequests>.Instance),
            NullLogger<PipelineMiddleware>.Instance);
    }

    /// <summary>The folder of <c>Gateway.sln</c>, where the shipped scripts are.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// A request matched to route "all" of cluster "backend" with one destination, "d1", whose metadata is what
    /// <c>bench/gateway/appsettings.json</c> gives it.
    /// </summary>
    public static DefaultHttpContext CreateContext()
    {
        var cluster = new ClusterState("backend");
        var destination = new DestinationState("d1", new DestinationModel(new DestinationConfig
        {
            Address = "http://127.0.0.1:9001/",
            Metadata = new Dictionary<string, string> { ["pool"] = "main", ["weight"] = "1" },
        }));
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/api/users/42";
        context.Request.Headers.Accept = "application/json";
        context.Features.Set<IReverseProxyFeature>(new ReverseProxyFeature
        {
            Route = new RouteModel(Route, cluster, HttpTransformer.Empty),
            Cluster = new ClusterModel(new ClusterConfig { ClusterId = "backend" }, new HttpMessageInvoker(new SocketsHttpHandler())),
            AllDestinations = destination,
            AvailableDestinations = destination,
        });
        return context;
    }

    /// <summary>One request through the runner; with <see cref="UpstreamKind.Deferred"/> the upstream answers at once, on this thread.</summary>
    public static Task Run(PipelineMiddleware middleware, HttpContext context, UpstreamKind upstream, RequestSignal gate)
    {
        var running = middleware.InvokeAsync(context);
        if (upstream == UpstreamKind.Deferred)
        {
            // The upstream answers: the rest of the request runs to the end inline.
            gate.Set();
            gate.Reset();
        }
        return running;
    }

    private sealed class NoClusters : IProxyStateLookup
    {
        public bool TryGetRoute(string id, [NotNullWhen(true)] out RouteModel? route) => (route = null) is not null;

        public IEnumerable<RouteModel> GetRoutes() => [];

        public bool TryGetCluster(string id, [NotNullWhen(true)] out ClusterState? cluster) => (cluster = null) is not null;

        public IEnumerable<ClusterState> GetClusters() => [];
    }

    private static async Task ForwardWhenOpenAsync(HttpContext context, RequestSignal gate)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        await ForwarderHandoff.TransformResponseAsync(new ResponseTransformContext { HttpContext = context, ProxyResponse = null, HeadersCopied = true });
    }
}

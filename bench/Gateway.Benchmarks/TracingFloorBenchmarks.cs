using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Gateway.Benchmarks;

/// <summary>
/// The floor under tracing every request (issue 19): a traced tag.js request's span tree (the server span, the script's
/// two steps, the forwarder's client span, with the tags they carry) started and stopped through the OpenTelemetry
/// SDK, sampled always and batched to an exporter that drops everything, against the same calls with nobody listening.
/// No instrumentation library, no header propagation, no serialization: what any traced request pays at least.
/// </summary>
[MemoryDiagnoser]
public class TracingFloorBenchmarks
{
    private static readonly ActivitySource Traced = new("Gateway.Benchmarks.Traced");
    private static readonly ActivitySource Untraced = new("Gateway.Benchmarks.Untraced");
    private TracerProvider _provider = null!;

    [GlobalSetup]
    public void Setup() => _provider = Sdk.CreateTracerProviderBuilder()
        .AddSource(Traced.Name)
        .SetSampler(new AlwaysOnSampler())
        .AddProcessor(new BatchActivityExportProcessor(new DroppingExporter()))
        .Build();

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public void NobodyListening() => RequestTree(Untraced);

    [Benchmark]
    public void EveryRequestTraced() => RequestTree(Traced);

    private static void RequestTree(ActivitySource source)
    {
        using var server = source.StartActivity("GET /api/{**rest}", ActivityKind.Server);
        server?.SetTag("http.request.method", "GET");
        server?.SetTag("url.path", "/api/hello");
        server?.SetTag("http.route", "/api/{**rest}");
        using (var step = source.StartActivity("script tag.js (request)"))
        {
            step?.SetTag("gateway.stage.index", 0);
            step?.SetTag("gateway.stage.name", "scripts/tag.js");
        }
        using (var client = source.StartActivity("GET", ActivityKind.Client))
        {
            client?.SetTag("http.request.method", "GET");
            client?.SetTag("server.address", "127.0.0.1");
            client?.SetTag("server.port", 9001);
            client?.SetTag("http.response.status_code", 200);
        }
        using (var step = source.StartActivity("script tag.js (response)"))
        {
            step?.SetTag("gateway.stage.index", 0);
            step?.SetTag("gateway.stage.name", "scripts/tag.js");
        }
        server?.SetTag("http.response.status_code", 200);
    }

    private sealed class DroppingExporter : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch) => ExportResult.Success;
    }
}

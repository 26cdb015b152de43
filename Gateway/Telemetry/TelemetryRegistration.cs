using Gateway.Admin;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

/// <summary>
/// Wires the gateway's metrics and traces: its own meter and activity source always (free while nothing listens, and
/// <c>dotnet-counters</c> can), and the OpenTelemetry SDK only when something exports: <c>Gateway:Metrics:Prometheus</c>
/// (a scrape endpoint on the admin listener) or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (OTLP push of metrics, traces and
/// logs, the SDK reading the standard <c>OTEL_*</c> variables, the sampler's included).
/// </summary>
internal static class TelemetryRegistration
{
    // Per-request instruments that would each cost every request a measurement or two (an up and a down, a queue time, a
    // connection turning active and idle) and add little that the duration histograms and Kestrel's connection gauges
    // do not already say.
    private static readonly string[] Dropped = ["http.server.active_requests", "http.client.active_requests", "http.client.request.time_in_queue", "http.client.open_connections"];

    /// <param name="isAdminRequest">Whether a request came to the admin listener, whose calls (a scrape a second) are not traced.</param>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration, Func<HttpContext, bool> isAdminRequest)
    {
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.SectionName));
        services.AddOptions<TracingOptions>().Bind(configuration.GetSection(TracingOptions.SectionName));
        services.AddSingleton<GatewayMetrics>();
        var options = configuration.GetSection(MetricsOptions.SectionName).Get<MetricsOptions>() ?? new MetricsOptions();
        var tracing = configuration.GetSection(TracingOptions.SectionName).Get<TracingOptions>() ?? new TracingOptions();
        // What a tracer provider listens to, whichever builds one: the OTLP one below, or a host's own exporter
        // (AddOpenTelemetry().WithTracing(...) next to AddGateway). Without one this registers a callback and nothing more.
        services.ConfigureOpenTelemetryTracerProvider(tracer =>
        {
            // The edge decides: a remote parent's sampled flag is the client's say, so it samples by the ratio as a root
            // does; spans under the gateway's own follow their parent.
            // (A ratio out of range fails the start, in GatewayStartup, before any provider is built.)
            var ratio = new TraceIdRatioBasedSampler(tracing.Validate().Any() ? 1 : tracing.SampleRatio);
            tracer.SetSampler(new ParentBasedSampler(ratio, remoteParentSampled: ratio, remoteParentNotSampled: ratio));
            foreach (var source in tracing.Sources ?? TracingOptions.DefaultSources)
            {
                if (source == TracingOptions.AspNetCoreSource)
                {
                    // ASP.NET Core's span names no route and no status: its instrumentation adds the HTTP conventions' tags.
                    tracer.AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !isAdminRequest(context));
                }
                else
                {
                    tracer.AddSource(source);
                }
            }
        });
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!options.Prometheus && !otlp)
        {
            return services;
        }
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "gateway"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. options.Meters ?? MetricsOptions.DefaultMeters]);
                foreach (var instrument in Dropped)
                {
                    metrics.AddView(instrument, MetricStreamConfiguration.Drop);
                }
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracer => tracer.AddOtlpExporter());
            // The gateway's log lines too (the access log's among them), in batches: the exporter's thread wakes once
            // a batch, where a console logger's wakes for every line.
            telemetry.WithLogging(logs => logs.AddOtlpExporter(), options => options.IncludeFormattedMessage = true);
        }
        return services;
    }

    /// <summary>Creates the gateway's instruments, and maps <c>GET /metrics</c> on the admin listener when Prometheus is on.</summary>
    public static void MapGatewayMetrics(this IEndpointRouteBuilder endpoints)
    {
        var services = endpoints.ServiceProvider;
        services.GetRequiredService<GatewayMetrics>();
        var options = services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Prometheus)
        {
            return;
        }
        var adminKey = services.GetRequiredService<AdminKey>();
        var scrapeKey = string.IsNullOrEmpty(options.ScrapeKey) ? null : new HashedKey(options.ScrapeKey);
        endpoints.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use((context, next) =>
                Authorized(HashedKey.PresentedBy(context.Request), adminKey, scrapeKey) ? next(context) : RefuseAsync(context)),
                optionsName: null)
            .WithMetadata(AdminEndpointMetadata.Instance);
    }

    private static bool Authorized(ReadOnlySpan<char> presented, AdminKey adminKey, HashedKey? scrapeKey) =>
        adminKey.Matches(presented) || scrapeKey?.Matches(presented) == true;

    private static Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"gateway-metrics\"";
        return Task.CompletedTask;
    }
}

namespace Gateway.Telemetry;

/// <summary>The <c>Gateway:Metrics</c> section: where the gateway's metrics go. Nothing is collected when nothing reads them.</summary>
public sealed record MetricsOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:Metrics";

    /// <summary>Serves <c>GET /metrics</c> (Prometheus text format) on the admin listener.</summary>
    public bool Prometheus { get; init; }

    /// <summary>
    /// A bearer key that opens <c>/metrics</c> and nothing else, for the scraper, so it need not hold the admin key;
    /// the admin key opens it too.
    /// </summary>
    public string? ScrapeKey { get; init; }

    /// <summary>The meters exported; <see cref="DefaultMeters"/> when unset. A list replaces it.</summary>
    public string[]? Meters { get; init; }

    /// <summary>
    /// The gateway's own, ASP.NET Core's requests, Kestrel's connections and the runtime's. Not the forwarder's client
    /// (<c>System.Net.Http</c>: the upstream's share of each request), which costs every request more than all of
    /// these together (<c>bench/RESULTS.md</c>); list it to have it.
    /// </summary>
    public static IReadOnlyList<string> DefaultMeters { get; } =
        [GatewayMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime"];
}

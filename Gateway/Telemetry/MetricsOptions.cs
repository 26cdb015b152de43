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
}

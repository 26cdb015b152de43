using Gateway.Pipeline;

namespace Gateway.Telemetry;

/// <summary>The <c>Gateway:Tracing</c> section: which activity sources a tracer listens to.</summary>
public sealed record TracingOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:Tracing";

    /// <summary>ASP.NET Core's, whose request spans are traced through OpenTelemetry's instrumentation of it.</summary>
    public const string AspNetCoreSource = "Microsoft.AspNetCore";

    /// <summary>The activity sources traced; <see cref="DefaultSources"/> when unset. A list replaces it.</summary>
    public string[]? Sources { get; init; }

    /// <summary>
    /// The share of requests traced, from 0 to 1 (the default: every one), decided by the trace id so that every node
    /// and every span of a trace agree. The client's <c>traceparent</c> sampled flag is not followed: a client must not be
    /// able to make the edge trace, and export, every request it sends.
    /// </summary>
    public double SampleRatio { get; init; } = 1;

    /// <summary>
    /// ASP.NET Core's request span (the admin listener's requests left out), the gateway's span per pipeline entry, and the forwarder client's span per upstream
    /// call (<c>System.Net.Http</c>, which sends the <c>traceparent</c> the origin continues). Not YARP's own
    /// (<c>Yarp.ReverseProxy</c>: a second span per request between the first two, and its health probes): list it to have it.
    /// </summary>
    /// <summary>What is wrong with these options, if anything.</summary>
    public IEnumerable<string> Validate()
    {
        if (!(SampleRatio is >= 0 and <= 1))
        {
            yield return $"{SectionName}:SampleRatio must be from 0 to 1, not {SampleRatio}.";
        }
    }

    public static IReadOnlyList<string> DefaultSources { get; } = [AspNetCoreSource, PipelineActivities.SourceName, "System.Net.Http"];
}

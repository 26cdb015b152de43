namespace Gateway.Plugins;

/// <summary>
/// A plugin with counters of its own (retries, refusals...), which <c>GET /admin/pipeline</c> shows under its entry
/// beside the calls, errors and time the gateway counts for every entry.
/// </summary>
/// <remarks>Added in 1.1.0.</remarks>
public interface IReportsCounters
{
    /// <summary>The counters as they are now, by name; read when the admin API asks, never per request.</summary>
    IReadOnlyDictionary<string, long> Counters { get; }
}

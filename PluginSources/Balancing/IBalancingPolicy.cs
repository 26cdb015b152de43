namespace Gateway.Plugins.Balancing;

/// <summary>Picks one of a request's candidate destinations; the plugin pins it.</summary>
internal interface IBalancingPolicy
{
    /// <returns>The index of the chosen candidate.</returns>
    int Pick(PluginContext context, IReadOnlyList<UpstreamDestination> candidates);

    /// <summary>Called when the request has come back from the chosen destination.</summary>
    void Completed(string destinationId, long startTimestamp) { }

    /// <summary>Whether <see cref="Completed"/> needs calling (latency-aware policies).</summary>
    bool TracksCompletion => false;
}

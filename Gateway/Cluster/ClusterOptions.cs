namespace Gateway.Cluster;

/// <summary>
/// The <c>Gateway:Cluster</c> section. With a <see cref="Secret"/>, the node joins the cluster of every gateway using the
/// same Redis (<c>ConnectionStrings:Redis</c>) and secret: they list each other and reload as one. Without, the node is
/// alone, as before. Read at start.
/// </summary>
public sealed record ClusterOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:Cluster";

    /// <summary>The shortest secret accepted: the messages it signs open every node's reload.</summary>
    public const int MinimumSecretLength = 16;

    /// <summary>
    /// Shared by every node of the cluster, best from the environment (<c>Gateway__Cluster__Secret</c>): it names the
    /// cluster and signs every message, so whoever can write to Redis without it cannot make a node reload or forge one.
    /// </summary>
    public string? Secret { get; init; }

    /// <summary>This node's name in the cluster; by default the host name and the proxy listener's port. Unique per node.</summary>
    public string? NodeId { get; init; }

    /// <summary>
    /// How often the node says it is alive and checks for a reload it missed. It leaves the list three heartbeats after
    /// its last one (when it dies); at once when it stops.
    /// </summary>
    public double HeartbeatSeconds { get; init; } = 5;

    /// <summary>How long a cluster reload waits for every node to answer before it reports the silent ones as <c>pending</c>.</summary>
    public double ReloadWaitSeconds { get; init; } = 30;

    internal bool Enabled => !string.IsNullOrEmpty(Secret);

    internal TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    /// <summary>How long a node stays listed after its last heartbeat.</summary>
    internal TimeSpan TimeToLive => 3 * Heartbeat;

    internal TimeSpan ReloadWait => TimeSpan.FromSeconds(ReloadWaitSeconds);

    /// <summary>What is wrong with these options, if anything.</summary>
    internal IEnumerable<string> Validate(bool hasRedis)
    {
        if (!Enabled)
        {
            yield break;
        }
        if (Secret!.Length < MinimumSecretLength)
        {
            yield return $"{SectionName}:Secret must be at least {MinimumSecretLength} characters long.";
        }
        if (!hasRedis)
        {
            yield return $"{SectionName}:Secret is set, but ConnectionStrings:Redis is not: the nodes of a cluster meet through Redis.";
        }
        if (NodeId is { } node && (string.IsNullOrWhiteSpace(node) || node.Length > 200))
        {
            yield return $"{SectionName}:NodeId must be a name of 1 to 200 characters, not '{node}'.";
        }
        if (!(HeartbeatSeconds is >= 0.1 and <= 3600))
        {
            yield return $"{SectionName}:HeartbeatSeconds must be from 0.1 to 3600, not {HeartbeatSeconds}.";
        }
        if (!(ReloadWaitSeconds is > 0 and <= 3600))
        {
            yield return $"{SectionName}:ReloadWaitSeconds must be more than 0 and at most 3600, not {ReloadWaitSeconds}.";
        }
    }
}

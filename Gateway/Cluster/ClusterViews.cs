using Gateway.Pipeline;

namespace Gateway.Cluster;

/// <summary>What <c>POST /admin/reload?scope=cluster</c> answers: each node's outcome.</summary>
internal sealed record ClusterReloadView(IReadOnlyList<NodeReloadView> Nodes)
{
    public bool AllApplied => Nodes.All(node => node.Status == NodeReloadView.Applied);
}

/// <summary>
/// One node's outcome of a cluster reload: <c>applied</c>, <c>rejected</c> (with the errors; its previous pipeline
/// serves on), or <c>pending</c> (it did not answer within <c>Gateway:Cluster:ReloadWaitSeconds</c>; what it serves as it last said).
/// </summary>
internal sealed record NodeReloadView(string Node, string Status, int Generation, string? PipelineHash, IReadOnlyList<PipelineError> Errors)
{
    public const string Applied = "applied";
    public const string Pending = "pending";
}

/// <summary>What <c>GET /admin/cluster</c> answers: the node asked, the hash most nodes serve, and every node alive.</summary>
internal sealed record ClusterView(string Node, string? PipelineHash, IReadOnlyList<NodeView> Nodes);

/// <summary>
/// One node as it last said of itself. <c>Drift</c>: it serves another hash than most nodes (every node, when no hash
/// has a majority); <c>Sequence</c>: the last cluster reload it applied.
/// </summary>
internal sealed record NodeView(
    string Node,
    string Version,
    int Generation,
    string? PipelineHash,
    bool Healthy,
    ReloadRecord? LastReload,
    bool Drift,
    string Status,
    NodeCache Cache,
    long Sequence,
    string Proxy,
    string Admin,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt);

namespace Gateway.Cluster;

/// <summary>
/// Collects the nodes' answers to one reload order: the first state each expected node publishes that has applied the
/// order or a later one (a later reload also read the files after the order was given).
/// </summary>
internal sealed class ClusterReloadWaiter
{
    private readonly long _sequence;
    private readonly Dictionary<string, NodeState?> _answers;
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _missing;

    public ClusterReloadWaiter(long sequence, IEnumerable<string> nodes)
    {
        _sequence = sequence;
        _answers = nodes.Distinct(StringComparer.Ordinal).ToDictionary(node => node, _ => (NodeState?)null, StringComparer.Ordinal);
        _missing = _answers.Count;
    }

    /// <summary>Completes once every expected node has answered.</summary>
    public Task Complete => _complete.Task;

    public void Offer(NodeState state)
    {
        if (state.Sequence < _sequence)
        {
            return;
        }
        lock (_answers)
        {
            if (!_answers.TryGetValue(state.Node, out var answer) || answer is not null)
            {
                return;
            }
            _answers[state.Node] = state;
            if (--_missing == 0)
            {
                _complete.TrySetResult();
            }
        }
    }

    /// <summary>Each expected node's answer, or <c>pending</c> with what it last said of itself.</summary>
    public IReadOnlyList<NodeReloadView> Results(IReadOnlyDictionary<string, NodeState> lastKnown)
    {
        lock (_answers)
        {
            return [.. _answers
                .OrderBy(answer => answer.Key, StringComparer.Ordinal)
                .Select(answer => answer.Value is { } state
                    ? new NodeReloadView(state.Node, state.LastReload?.Outcome ?? "applied", state.Generation, state.PipelineHash, state.LastReload?.Errors ?? [])
                    : new NodeReloadView(answer.Key, NodeReloadView.Pending, lastKnown.GetValueOrDefault(answer.Key)?.Generation ?? 0,
                        lastKnown.GetValueOrDefault(answer.Key)?.PipelineHash, []))];
        }
    }
}

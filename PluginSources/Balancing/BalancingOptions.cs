namespace Gateway.Plugins.Balancing;

/// <summary>The Balancing plugin's config: a policy per cluster id.</summary>
public sealed record BalancingOptions
{
    public required IReadOnlyDictionary<string, PolicyOptions> Clusters { get; init; }
}

/// <summary>One cluster's policy.</summary>
public sealed record PolicyOptions
{
    /// <summary><c>weighted-round-robin</c>, <c>consistent-hash</c> or <c>peak-ewma</c>.</summary>
    public required string Policy { get; init; }

    /// <summary>weighted-round-robin: the destination metadata key holding the weight (default <c>weight</c>; absent: 1).</summary>
    public string? WeightMetadata { get; init; }

    /// <summary>consistent-hash: what to hash.</summary>
    public HashOnOptions? HashOn { get; init; }

    /// <summary>consistent-hash: points per destination on the ring (default 160).</summary>
    public int? VirtualNodes { get; init; }

    /// <summary>peak-ewma: how fast old latency is forgotten (default 10 s).</summary>
    public double? DecaySeconds { get; init; }
}

/// <summary>Exactly one source of the hash key.</summary>
public sealed record HashOnOptions
{
    public string? Header { get; init; }

    public string? Cookie { get; init; }

    public string? Query { get; init; }

    public string? Var { get; init; }

    public bool? ClientIp { get; init; }
}

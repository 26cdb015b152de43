namespace Gateway.Plugins.AbTesting;

/// <summary>One experiment: its variants and how a client is kept on its variant.</summary>
public sealed record AbTestingOptions
{
    /// <summary>The experiment's name: salts the assignment hash and names the default cookie.</summary>
    public required string Name { get; init; }

    public required IReadOnlyList<VariantOptions> Variants { get; init; }

    /// <summary>How assignment sticks; a cookie named <c>ab_&lt;name&gt;</c> by default.</summary>
    public StickyOptions? Sticky { get; init; }

    /// <summary>Where QA may force a variant by name.</summary>
    public OverrideOptions? Override { get; init; }

    /// <summary>The <c>vars</c> key the variant goes into (default <c>variant</c>).</summary>
    public string? Var { get; init; }

    /// <summary>The upstream header naming the variant (default <c>x-variant</c>; empty for none).</summary>
    public string? UpstreamHeader { get; init; }

    /// <summary>The response header naming the variant (default <c>x-variant</c>; empty for none).</summary>
    public string? ResponseHeader { get; init; }
}

/// <summary>A variant and where its requests go: a destination group of the route's cluster, or another cluster.</summary>
public sealed record VariantOptions
{
    public required string Name { get; init; }

    /// <summary>Its share, relative to the other variants' weights.</summary>
    public required double Weight { get; init; }

    /// <summary>Destination metadata the variant's destinations all have, e.g. <c>{ "version": "v2" }</c>.</summary>
    public IReadOnlyDictionary<string, string>? Group { get; init; }

    /// <summary>Another cluster of <c>ReverseProxy:Clusters</c> that serves the variant.</summary>
    public string? Cluster { get; init; }
}

/// <summary>Exactly one of: a cookie set on first assignment, or a hash of a request header or a <c>vars</c> value.</summary>
public sealed record StickyOptions
{
    public string? Cookie { get; init; }

    /// <summary>The cookie's lifetime (default 30 days).</summary>
    public int? MaxAgeSeconds { get; init; }

    public string? Header { get; init; }

    /// <summary>A <c>vars</c> key set by an earlier stage, e.g. the Auth plugin's <c>consumer</c>.</summary>
    public string? Var { get; init; }
}

public sealed record OverrideOptions
{
    public string? Header { get; init; }

    public string? Query { get; init; }
}

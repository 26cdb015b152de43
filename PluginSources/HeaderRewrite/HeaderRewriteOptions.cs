namespace Gateway.Plugins.HeaderRewrite;

/// <summary>The plugin's <c>config</c>: rules for the request going upstream and the response going to the client.</summary>
public sealed record HeaderRewriteOptions
{
    public HeaderRuleOptions? Request { get; init; }

    public HeaderRuleOptions? Response { get; init; }
}

/// <summary>Rules applied in this order: remove, rename, set, append. Values are templates.</summary>
public sealed record HeaderRuleOptions
{
    /// <summary>Headers to replace (or add), name to value.</summary>
    public Dictionary<string, string>? Set { get; init; }

    /// <summary>Values to add to a header, keeping the values it has.</summary>
    public Dictionary<string, string>? Append { get; init; }

    /// <summary>Headers to drop.</summary>
    public string[]? Remove { get; init; }

    /// <summary>Headers to move to a new name, old name to new name, keeping their values.</summary>
    public Dictionary<string, string>? Rename { get; init; }
}

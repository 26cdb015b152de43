namespace Gateway.Forwarding;

/// <summary>
/// The <c>Gateway:HideOrigin</c> section: what of the servers behind the gateway its answers leave out. On by default.
/// </summary>
public sealed record HideOriginOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:HideOrigin";

    /// <summary>The response fields removed by default.</summary>
    public static readonly IReadOnlyList<string> DefaultRemoveHeaders = ["Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"];

    /// <summary>Whether upstream fields are removed and Kestrel's own <c>Server</c> field is off. Default true.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// The upstream response fields removed (names, case-insensitive); given, it replaces the default list
    /// (<see cref="DefaultRemoveHeaders"/>), so list those too to keep them removed.
    /// </summary>
    public string[]? RemoveHeaders { get; init; }
}

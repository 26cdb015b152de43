namespace Gateway.Admin;

/// <summary>The <c>Gateway:Admin</c> configuration section.</summary>
public sealed record AdminOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:Admin";

    /// <summary>
    /// The bearer key every admin call but <c>/healthz</c> must present. Set it through the environment
    /// (<c>Gateway__Admin__ApiKey</c>); when unset a random key is generated at start and logged once.
    /// </summary>
    public string? ApiKey { get; init; }
}

namespace Gateway.Plugins.IpFilter;

/// <summary>The plugin's <c>config</c>: addresses (<c>192.0.2.7</c>, <c>2001:db8::1</c>) and CIDR ranges (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>).</summary>
public sealed record IpFilterOptions
{
    /// <summary>The only clients let through, unless denied; empty or absent: every client not denied.</summary>
    public string[]? Allow { get; init; }

    /// <summary>Clients refused with 403, whatever <see cref="Allow"/> says.</summary>
    public string[]? Deny { get; init; }
}

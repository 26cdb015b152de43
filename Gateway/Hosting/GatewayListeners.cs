using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Hosting;

/// <summary>
/// The Kestrel endpoints named <c>Proxy</c> and <c>Admin</c>, captured as Kestrel binds them, so a request can be told
/// apart by the listener it arrived on (its local port) rather than by anything the client sends.
/// </summary>
internal sealed class GatewayListeners
{
    public const string ProxyEndpointName = "Proxy";
    public const string AdminEndpointName = "Admin";

    private ListenOptions? _proxy;
    private ListenOptions? _admin;

    /// <summary>The proxy listener's bound port, once listening (Kestrel fills in port 0 when it binds).</summary>
    public int ProxyPort => _proxy?.IPEndPoint?.Port ?? 0;

    /// <summary>The admin listener's bound port, once listening.</summary>
    public int AdminPort => _admin?.IPEndPoint?.Port ?? 0;

    /// <summary>Where the proxy listens, as a URL; for the start-up log line.</summary>
    public string ProxyUrl => Url(_proxy);

    /// <summary>Where the admin API listens, as a URL.</summary>
    public string AdminUrl => Url(_admin);

    public bool IsAdminRequest(HttpContext context)
    {
        var adminPort = AdminPort;
        return adminPort != 0 && context.Connection.LocalPort == adminPort;
    }

    private static string Url(ListenOptions? listener) => listener?.IPEndPoint is { } endpoint ? $"http://{endpoint}" : listener?.ToString() ?? "(none)";

    internal void Capture(KestrelServerOptions kestrel, IConfiguration kestrelSection) =>
        kestrel.Configure(kestrelSection, reloadOnChange: false)
            .Endpoint(ProxyEndpointName, endpoint => _proxy = endpoint.ListenOptions)
            .Endpoint(AdminEndpointName, endpoint => _admin = endpoint.ListenOptions);

    /// <summary>Fails the start when a listener is missing or both share a port.</summary>
    public void Validate()
    {
        if (_proxy is null || _admin is null)
        {
            throw new InvalidOperationException(
                $"Kestrel:Endpoints must define both '{ProxyEndpointName}' and '{AdminEndpointName}' (for example Kestrel:Endpoints:Admin:Url=http://127.0.0.1:8081).");
        }
        if (_admin.IPEndPoint is null)
        {
            throw new InvalidOperationException("The Admin endpoint must listen on an IP address and port.");
        }
    }
}

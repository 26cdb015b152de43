using Gateway.Tls;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Hosting;

/// <summary>
/// The Kestrel endpoints named <c>Proxy</c> and <c>Admin</c>. The admin listener marks each connection it accepts, so
/// a request is told apart by the listener it arrived on, never by an address or port a client can also reach the
/// proxy by.
/// </summary>
internal sealed class GatewayListeners
{
    public const string ProxyEndpointName = "Proxy";
    public const string AdminEndpointName = "Admin";

    private ListenOptions? _proxy;
    private ListenOptions? _admin;
    private bool _adminIsHttps;

    /// <summary>The proxy listener's bound port, once listening (Kestrel fills in port 0 when it binds).</summary>
    public int ProxyPort => _proxy?.IPEndPoint?.Port ?? 0;

    /// <summary>The admin listener's bound port, once listening.</summary>
    public int AdminPort => _admin?.IPEndPoint?.Port ?? 0;

    /// <summary>Whether the proxy listener is an <c>https://</c> one.</summary>
    public bool ProxyIsHttps { get; private set; }

    /// <summary>Where the proxy listens, as a URL; for the start-up log line.</summary>
    public string ProxyUrl => Url(_proxy, ProxyIsHttps);

    /// <summary>Where the admin API listens, as a URL.</summary>
    public string AdminUrl => Url(_admin, _adminIsHttps);

    /// <summary>Whether the request came through a connection the admin listener accepted.</summary>
    public static bool IsAdminRequest(HttpContext context) => context.Features.Get<AdminConnection>() is not null;

    private static string Url(ListenOptions? listener, bool https) =>
        listener?.IPEndPoint is { } endpoint ? $"{(https ? "https" : "http")}://{endpoint}" : listener?.ToString() ?? "(none)";

    // Kestrel's reloadOnChange would stop and rebind an endpoint whenever its section or certificate files change,
    // closing its connections and refusing new ones meanwhile; the gateway replaces certificates in place instead.
    internal void Capture(KestrelServerOptions kestrel, IConfiguration kestrelSection)
    {
        var loader = kestrel.Configure(kestrelSection, reloadOnChange: false);
        foreach (var configured in kestrelSection.GetSection("Endpoints").GetChildren())
        {
            var name = configured.Key;
            loader.Endpoint(name, endpoint => OnLoad(kestrel, name, endpoint));
        }
    }

    private void OnLoad(KestrelServerOptions kestrel, string name, EndpointConfiguration endpoint)
    {
        if (endpoint.IsHttps)
        {
            try
            {
                kestrel.ApplicationServices.GetRequiredService<ListenerCertificates>().Use(name, endpoint);
            }
            catch (InvalidOperationException ex)
            {
                throw new GatewayStartException(ex.Message);
            }
        }
        if (string.Equals(name, ProxyEndpointName, StringComparison.OrdinalIgnoreCase))
        {
            _proxy = endpoint.ListenOptions;
            ProxyIsHttps = endpoint.IsHttps;
        }
        else if (string.Equals(name, AdminEndpointName, StringComparison.OrdinalIgnoreCase))
        {
            _admin = endpoint.ListenOptions;
            _adminIsHttps = endpoint.IsHttps;
            // Connection features are what every request on the connection can see, HTTP/1.1 and HTTP/2 alike.
            _admin.Use(next => connection =>
            {
                connection.Features.Set(AdminConnection.Instance);
                return next(connection);
            });
        }
    }

    /// <summary>
    /// Refuses, before anything listens, two endpoints that could accept the same connection: one port, and an address
    /// in common (the same one, or one of them every address of the host).
    /// </summary>
    /// <exception cref="GatewayStartException">They could.</exception>
    public static void CheckApart(IConfiguration kestrelSection)
    {
        var proxy = kestrelSection[$"Endpoints:{ProxyEndpointName}:Url"];
        var admin = kestrelSection[$"Endpoints:{AdminEndpointName}:Url"];
        if (proxy is null || admin is null || !Uri.TryCreate(Wildcards(proxy), UriKind.Absolute, out var proxyUri) || !Uri.TryCreate(Wildcards(admin), UriKind.Absolute, out var adminUri))
        {
            return;
        }
        if (proxyUri.Port != 0 && proxyUri.Port == adminUri.Port && Overlap(proxyUri.Host, adminUri.Host))
        {
            throw new GatewayStartException(
                $"Kestrel:Endpoints:{ProxyEndpointName}:Url ({proxy}) and Kestrel:Endpoints:{AdminEndpointName}:Url ({admin}) could accept the same "
                + "connections: give the admin API a port of its own, or two distinct addresses.");
        }
    }

    /// <summary>Fails the start when a listener is missing.</summary>
    public void Validate()
    {
        if (_proxy is null || _admin is null)
        {
            throw new GatewayStartException(
                $"Kestrel:Endpoints must define both '{ProxyEndpointName}' and '{AdminEndpointName}' (for example Kestrel:Endpoints:Admin:Url=http://127.0.0.1:8081).");
        }
    }

    // Kestrel's "*" and "+" hosts mean every address; Uri cannot parse them.
    private static string Wildcards(string url) => url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);

    private static bool Overlap(string first, string second)
    {
        var (a, b) = (Normalize(first), Normalize(second));
        return a == b || a is "any" || b is "any" || (a is "localhost" && b is "127.0.0.1" or "::1") || (b is "localhost" && a is "127.0.0.1" or "::1");
    }

    private static string Normalize(string host)
    {
        var trimmed = host.Trim('[', ']').ToLowerInvariant();
        return trimmed is "0.0.0.0" or "::" ? "any" : trimmed.StartsWith("::ffff:", StringComparison.Ordinal) ? trimmed["::ffff:".Length..] : trimmed;
    }

    /// <summary>Set on every connection the admin listener accepts.</summary>
    private sealed class AdminConnection
    {
        public static readonly AdminConnection Instance = new();
    }
}

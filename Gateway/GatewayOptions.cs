namespace Gateway;

/// <summary>The <c>Gateway</c> configuration section.</summary>
public sealed record GatewayOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway";

    /// <summary>The pipeline file; relative paths resolve against the working directory.</summary>
    public string PipelineFile { get; init; } = "plugins.json";

    /// <summary>The plugin drop folder, holding <c>&lt;Name&gt;/&lt;Name&gt;.dll</c>.</summary>
    public string PluginsPath { get; init; } = "plugins";

    /// <summary>The folder of JavaScript hooks.</summary>
    public string ScriptsPath { get; init; } = "scripts";

    /// <summary>
    /// How long an upstream may stay silent (no response headers, no body bytes) before the request gets 504, for the
    /// clusters that do not set <c>HttpRequest:ActivityTimeout</c> themselves.
    /// </summary>
    public TimeSpan UpstreamActivityTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long each plugin of a new pipeline may take in <c>IAsyncInitializable.InitializeAsync</c> before the reload is
    /// rejected.
    /// </summary>
    public TimeSpan PluginInitializeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The proxies in front of the gateway whose forwarded client address is believed; none by default.</summary>
    public Forwarding.TrustedProxies ForwardedHeaders { get; init; } = new();

    /// <summary>The copies of requests stages run detached from the client (<c>PluginContext.TryStartDetachedRequest</c>).</summary>
    public DetachedRequestOptions DetachedRequests { get; init; } = new();

    /// <summary>
    /// The port a route's <c>HttpsRedirect</c> sends plain HTTP requests to; by default the proxy listener's when it is
    /// an <c>https://</c> one, else 443 (TLS ended in front of the gateway, or on another port an L4 balancer maps).
    /// </summary>
    public int? HttpsPort { get; init; }

    /// <summary>
    /// Whether a socket's completion runs the code awaiting it on the runtime's socket threads (one per core), and Kestrel
    /// a connection's requests with it, instead of handing each to the thread pool: the fewest thread hops per request.
    /// The pipeline moves a request to the thread pool before any step that may block (a script, a plugin not marked
    /// <c>[NonBlocking]</c>). The runtime reads it once, before the process's first socket, so the gateway's executable
    /// applies it at its start (<see cref="Microsoft.AspNetCore.Builder.GatewayHostingExtensions.UseInlineIo"/>); the
    /// runtime's own <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>, when set, decides instead.
    /// </summary>
    public bool InlineIo { get; init; } = true;

    /// <summary>How long a retired pipeline may wait for in-flight requests before a warning is logged.</summary>
    public TimeSpan DrainWarningAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Resolves a configured path against the working directory.</summary>
    internal static string Resolve(string path) => Path.GetFullPath(path, Environment.CurrentDirectory);
}

/// <summary>The <c>Gateway:DetachedRequests</c> section: bounds on the requests stages run detached from any client.</summary>
public sealed record DetachedRequestOptions
{
    /// <summary>How many may run at once on this node; a stage asking for one more is refused and works in line.</summary>
    public int MaxConcurrent { get; init; } = 64;

    /// <summary>How long one may run, upstream included, before it is canceled.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}

using Gateway;
using Gateway.AccessLog;
using Gateway.Hosting;
using Gateway.Pipeline;
using Gateway.Protection;
using Gateway.Telemetry;
using Gateway.Tls;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Wires the gateway into a web application.</summary>
public static partial class GatewayHostingExtensions
{
    private const string UnusableSettingKey = "Gateway.UnusableSetting";

    private static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Kestrel:Endpoints:Proxy:Url"] = "http://127.0.0.1:8080",
        ["Kestrel:Endpoints:Admin:Url"] = "http://127.0.0.1:8081",
        // Per-request logging costs the proxy CPU on every request (bench/README.md): quiet by default.
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Gateway"] = "Information",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
        // While this category logs at any level, the host starts an activity and a logging scope for every request, and
        // the forwarder then stamps each upstream request with it: work for a log that says nothing at Warning (its
        // lines are per-request Information). Tracing, when on, starts its own activities. bench/RESULTS.md has the cost.
        ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
        // The host logs a failed start as an error with its stack trace; RunGatewayAsync reports it as one line instead.
        ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "Critical",
        // An edge's bounds (Kestrel has none on connections): enough for a busy node, not for a flood to exhaust it.
        ["Kestrel:Limits:MaxConcurrentConnections"] = "10000",
        ["Kestrel:Limits:MaxConcurrentUpgradedConnections"] = "1000",
        // A client that takes longer than this over its request line and headers is holding a connection, not sending a request (slowloris).
        ["Kestrel:Limits:RequestHeadersTimeout"] = "00:00:15",
        ["Kestrel:Limits:KeepAliveTimeout"] = "00:01:00",
    };

    /// <summary>
    /// Adds the gateway's services, the <c>Proxy</c> and <c>Admin</c> Kestrel endpoints with their defaults
    /// (<c>http://127.0.0.1:8080</c> and <c>:8081</c>) and quiet log levels; any configuration source overrides these.
    /// </summary>
    public static IGatewayBuilder AddGateway(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Lowest precedence: appsettings, environment and command line all override these.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });

        var listeners = new GatewayListeners();
        builder.Services.AddSingleton(listeners);
        builder.WebHost.ConfigureKestrel((context, kestrel) => listeners.Capture(kestrel, context.Configuration.GetSection("Kestrel")));
        return builder.Services.AddGateway(builder.Configuration);
    }

    /// <summary>
    /// Turns on inline I/O for this process (<see cref="GatewayOptions.InlineIo"/>) unless <c>Gateway:InlineIo</c> is
    /// <c>false</c> or the runtime's <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> is set. The runtime reads that
    /// variable when the process opens its first socket, so an executable calls this first, before anything else runs;
    /// a host inside another program (a test) leaves it to that program.
    /// </summary>
    public static WebApplicationBuilder UseInlineIo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // A value that is not a boolean is left to the options binding, which fails the start naming it.
        var setting = builder.Configuration[$"{GatewayOptions.SectionName}:{nameof(GatewayOptions.InlineIo)}"];
        if (Environment.GetEnvironmentVariable(InlineIo.RuntimeVariable) is null && (!bool.TryParse(setting, out var on) || on))
        {
            Environment.SetEnvironmentVariable(InlineIo.RuntimeVariable, "1");
        }
        return builder;
    }

    /// <summary>
    /// Maps the admin API and the reverse proxy, with the pipeline running inside YARP's proxy pipeline. A setting that
    /// does not bind (a number that is not one) is kept for <see cref="RunGatewayAsync"/> to report as a failed start.
    /// </summary>
    public static WebApplication UseGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            MapGateway(app);
        }
        catch (InvalidOperationException ex)
        {
            ((IApplicationBuilder)app).Properties[UnusableSettingKey] = ex;
        }
        return app;
    }

    private static void MapGateway(WebApplication app)
    {
        // First, so that everything after it (routing, the admin API's log, every stage) sees the real client. Without
        // trusted proxies it is not added at all: X-Forwarded-For is then the client's own say, and ignored.
        if (app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.ForwardedHeaders.Any)
        {
            app.UseForwardedHeaders();
        }
        // Before the exception handler, so a request it answers is logged with the 500 the client got.
        var accessLog = app.Services.GetRequiredService<IOptions<AccessLogOptions>>().Value.Enabled;
        if (accessLog)
        {
            app.UseMiddleware<AccessLogMiddleware>((Func<HttpContext, bool>)GatewayListeners.IsAdminRequest);
        }
        if (InlineIo.IsOn)
        {
            // The admin API's work (a reload loads assemblies and compiles scripts) must not hold up a socket thread.
            app.Use(static (context, next) =>
                GatewayListeners.IsAdminRequest(context) && ThreadPoolHop.IsNeeded ? ThreadPoolHop.ContinueOnPoolAsync(context, next) : next(context));
        }
        app.UseExceptionHandler();
        // A route's Timeout or TimeoutPolicy (YARP maps them to request timeouts) needs this after routing.
        app.UseRequestTimeouts();
        // A route's RateLimiterPolicy (a Gateway:ConcurrencyLimits policy); after the timeouts, so a queued request's
        // wait counts against its route's timeout. Without policies no route can name one, and nothing is added.
        if (ConcurrencyLimitRegistration.AnyConfigured(app.Configuration))
        {
            app.UseRateLimiter();
        }
        app.UseAuthorizationWhereAsked();
        app.MapGatewayAdmin();
        app.MapGatewayMetrics();
        var listeners = app.Services.GetRequiredService<GatewayListeners>();
        var httpsPort = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.HttpsPort;
        var routeHttps = new RouteHttps(() => httpsPort ?? (listeners.ProxyIsHttps ? listeners.ProxyPort : 443));
        app.MapReverseProxy(proxy =>
        {
            proxy.Use(RouteTelemetryTags.ApplyAsync);
            proxy.Use(routeHttps.ApplyAsync);
            proxy.Use(RouteBodySizeLimit.ApplyAsync);
            proxy.UseGatewayPipeline();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
            if (accessLog)
            {
                // Last, around the forwarder: the upstream's share of a logged request.
                proxy.Use(AccessLogRecord.TimeForwarderAsync);
            }
        });
    }

    /// <summary>
    /// Runs the gateway until it is shut down. A start that fails (a pipeline, a plugin or a listener that cannot be
    /// used) is one error line naming the culprit, with the stack trace only at <c>Debug</c>, and exit code 1.
    /// </summary>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunGatewayAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (((IApplicationBuilder)app).Properties.TryGetValue(UnusableSettingKey, out var unusable) && unusable is Exception setting)
        {
            return await CannotStartAsync(app, setting).ConfigureAwait(false);
        }
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return await CannotStartAsync(app, ex).ConfigureAwait(false);
        }
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> CannotStartAsync(WebApplication app, Exception reason)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Hosting");
        StartLog.CannotStart(logger, reason.Message);
        StartLog.CannotStartDetails(logger, reason);
        await app.DisposeAsync().ConfigureAwait(false);
        return 1;
    }

    private static partial class StartLog
    {
        [LoggerMessage(EventIds.GatewayCannotStart, LogLevel.Critical, "The gateway cannot start: {Reason}")]
        public static partial void CannotStart(ILogger logger, string reason);

        [LoggerMessage(EventIds.GatewayCannotStartDetails, LogLevel.Debug, "Why the gateway could not start, in detail.")]
        public static partial void CannotStartDetails(ILogger logger, Exception exception);
    }
}

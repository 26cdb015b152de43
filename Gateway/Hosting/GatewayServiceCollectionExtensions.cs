using System.Text;
using Gateway;
using Gateway.AccessLog;
using Gateway.Admin;
using Gateway.Caching;
using Gateway.Cluster;
using Gateway.Errors;
using Gateway.Forwarding;
using Gateway.Hosting;
using Gateway.Protection;
using Gateway.Scripting;
using Gateway.Telemetry;
using Gateway.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's services.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway: YARP from the <c>ReverseProxy</c> section, the hot-swappable pipeline, the plugin loader,
    /// the admin API and the gateway's error responses.
    /// </summary>
    public static IGatewayBuilder AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.SectionName));
        services.AddOptions<ScriptOptions>().Bind(configuration.GetSection(ScriptOptions.SectionName));
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.SectionName));
        services.AddGatewayAccessLog(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = GatewayProblems.AddTraceId);
        // Named policies a route's TimeoutPolicy may refer to: Gateway:TimeoutPolicies:<name>:Timeout.
        services.AddRequestTimeouts(options => configuration.GetSection(GatewayOptions.SectionName).GetSection("TimeoutPolicies").Bind(options.Policies));
        services.AddGatewayCache(configuration);
        // Before GatewayStartup: a node reads the cluster's newest reload before it loads its first pipeline.
        services.AddGatewayCluster(configuration);
        // Named per-route concurrency limits a route's RateLimiterPolicy may refer to: Gateway:ConcurrencyLimits:<name>.
        services.AddGatewayConcurrencyLimits(configuration);
        services.AddGatewayTelemetry(configuration, GatewayListeners.IsAdminRequest);
        services.AddHttpClient();
        // RFC 9110 §5.5: a field value may carry obs-text, opaque data to pass on. The forwarder reads an origin's header
        // bytes as Latin-1; writing them back as Latin-1 returns the same bytes, where Kestrel's default (ASCII only)
        // would fail the response with a 502.
        var hideOrigin = configuration.GetSection(HideOriginOptions.SectionName).Get<HideOriginOptions>() ?? new HideOriginOptions();
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.ResponseHeaderEncodingSelector = static _ => Encoding.Latin1;
            // "Server: Kestrel" says what the edge runs, which nobody outside needs to know.
            kestrel.AddServerHeader = !hideOrigin.Enabled;
            // Kestrel reads its endpoints from the Kestrel section but leaves its limits to code: Kestrel:Limits
            // (connections, header sizes and timeouts, body size, HTTP/2's) are settings here like any other.
            configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
        });
        // Nor does it read its socket transport's options: Kestrel:Transport (SocketTransportOptions) binds them. With the
        // runtime's inline completions, Kestrel runs a connection on the socket thread too, or the hop the runtime saved
        // comes back as one to Kestrel's own queues (bench/RESULTS.md has both halves alone and together).
        services.Configure<SocketTransportOptions>(transport => transport.UnsafePreferInlineScheduling = InlineIo.IsOn);
        services.Configure<SocketTransportOptions>(configuration.GetSection("Kestrel:Transport"));

        services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<GatewayOptions>>((forwarded, gateway) => gateway.Value.ForwardedHeaders.ApplyTo(forwarded));

        services.TryAddSingleton<GatewayListeners>();
        services.AddSingleton<ListenerCertificates>();
        services.AddSingleton<GatewayProblems>();
        services.AddSingleton<AdminKey>();
        services.AddSingleton<AdminKeyFilter>();
        services.AddSingleton<AdminPage>();
        services.AddHostedService<GatewayStartup>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ListenerMatcherPolicy>());

        // Read at start: which fields a response loses is no pipeline matter.
        var originHiding = new OriginHiding(hideOrigin.RemoveHeaders ?? [.. HideOriginOptions.DefaultRemoveHeaders]);
        // Before YARP's, which it only adds when none is registered: clusters' TrustedCaFile and PinnedPublicKeys.
        services.AddSingleton<IForwarderHttpClientFactory, OriginTrustClientFactory>();
        services.AddReverseProxy()
            // First, so that no stage (a cache least of all) sees a field the origin meant for its connection only.
            .AddTransforms(context =>
            {
                context.AddRequestTransform(ConnectionNominatedFields.RemoveFromRequestAsync);
                context.AddResponseTransform(ConnectionNominatedFields.RemoveFromResponseAsync);
                if (hideOrigin.Enabled)
                {
                    context.AddResponseTransform(originHiding.TransformAsync);
                }
            })
            .AddGatewayPipeline();

        return new GatewayBuilder(services);
    }

    private sealed class GatewayBuilder(IServiceCollection services) : IGatewayBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

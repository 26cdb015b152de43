using Gateway.Caching;
using Gateway.Hosting;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.Cluster;

/// <summary>Binds <c>Gateway:Cluster</c>; with a secret, adds the node's part in the cluster, started before the first pipeline loads.</summary>
internal static class ClusterRegistration
{
    public static IServiceCollection AddGatewayCluster(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(ClusterOptions.SectionName);
        services.AddOptions<ClusterOptions>().Bind(section);
        var options = section.Get<ClusterOptions>() ?? new ClusterOptions();
        if (!options.Enabled)
        {
            return services;
        }
        services.AddSingleton(provider =>
        {
            var signer = new ClusterSigner(options.Secret!);
            var cache = provider.GetRequiredService<IOptions<CacheOptions>>().Value;
            // Without Redis the node fails its start, saying so.
            var store = provider.GetService<RedisConnection>() is { } redis
                ? new ClusterStore(redis, signer.ClusterId, cache.ConnectTimeout, cache.OperationTimeout)
                : null;
            return new ClusterNode(options, signer, store,
                provider.GetRequiredService<PipelineReloader>(),
                provider.GetRequiredService<PipelineHolder>(),
                provider.GetRequiredService<ReloadHistory>(),
                provider.GetRequiredService<CacheHealth>(),
                provider.GetRequiredService<GatewayListeners>(),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<ClusterNode>>());
        });
        services.AddHostedService(provider => provider.GetRequiredService<ClusterNode>());
        return services;
    }
}

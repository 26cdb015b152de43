using Gateway.Pipeline;
using Gateway.ProxyConfig;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the pipeline with YARP; <c>UseGatewayPipeline</c> is its counterpart in the proxy pipeline.</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Adds the hot-swappable pipeline: its holder, builder and reloader, the routes and clusters YARP serves (only
    /// those a reload validated with the pipeline), the runner's answers, the detached copies of requests stages start, and the response transform through which
    /// stages see the upstream's response.
    /// </summary>
    public static IReverseProxyBuilder AddGatewayPipeline(this IReverseProxyBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var services = proxy.Services;
        services.AddSingleton<PipelineHolder>();
        services.AddSingleton<PipelineBuilder>();
        services.AddSingleton<PipelineReloader>();
        services.AddSingleton<ReloadHistory>();
        services.AddSingleton<PipelineInspector>();
        services.AddSingleton<PipelineResponseWriter>();
        services.AddSingleton<DetachedRequests>();
        services.AddSingleton<ConfigurationReader>();
        services.AddSingleton<ProxyConfigReader>();
        services.AddSingleton<ProxyConfigPublisher>();
        // YARP serves only the routes and clusters a reload validated with the pipeline, not the files as they change.
        services.AddSingleton(provider => provider.GetRequiredService<ProxyConfigPublisher>().Provider);
        services.AddSingleton<IConfigChangeListener>(provider => provider.GetRequiredService<ProxyConfigPublisher>());
        return proxy.AddTransforms(context => context.AddResponseTransform(ForwarderHandoff.TransformResponseAsync));
    }
}

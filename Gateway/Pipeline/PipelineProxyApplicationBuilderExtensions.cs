using Gateway.Pipeline;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Places the pipeline in YARP's proxy pipeline; <c>AddGatewayPipeline</c> registers what it needs.</summary>
public static class PipelineProxyApplicationBuilderExtensions
{
    /// <summary>
    /// Runs the gateway's pipeline for the matched route. Place it first in a custom <c>MapReverseProxy</c> pipeline,
    /// before session affinity and load balancing, so stages can narrow the destinations they choose from.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseGatewayPipeline(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        proxy.UseMiddleware<PipelineMiddleware>();
        return proxy;
    }
}

using Gateway.Plugins;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CacheProbe;

/// <summary>
/// Drives the host's distributed cache from a request: <c>x-cache-set: key=value</c> stores, <c>x-cache-get: key</c>
/// answers with the value in <c>x-cache-value</c> (<c>(miss)</c> when absent). Every request still goes upstream.
/// </summary>
public sealed class CacheProbePlugin(PluginSetup setup) : IGatewayPlugin
{
    private readonly IDistributedCache _cache = setup.Services.GetRequiredService<IDistributedCache>();

    public async ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        var headers = context.HttpContext.Request.Headers;
        if (headers["x-cache-set"].ToString() is { Length: > 0 } set && set.Split('=', 2) is [var key, var value])
        {
            await _cache.SetStringAsync(key, value);
        }
        string? read = null;
        if (headers["x-cache-get"].ToString() is { Length: > 0 } get)
        {
            read = await _cache.GetStringAsync(get) ?? "(miss)";
        }
        await next(context);
        if (read is not null)
        {
            context.HttpContext.Response.Headers["x-cache-value"] = read;
        }
    }
}

using Gateway.Plugins;

namespace Versioned;

/// <summary>Tags responses with the build it came from; built twice, as version 1 and version 2.</summary>
public sealed class VersionedPlugin : IGatewayPlugin
{
#if V2
    private const string Version = "2";
#else
    private const string Version = "1";
#endif

    public async ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        await next(context);
        context.HttpContext.Response.Headers["x-plugin-version"] = Version;
    }
}

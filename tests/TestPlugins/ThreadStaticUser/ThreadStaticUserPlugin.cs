using System.Text;
using Gateway.Plugins;

namespace Gateway.TestPlugins.ThreadStaticUser;

/// <summary>A plugin keeping per-thread scratch state, which the gateway must refuse to load.</summary>
public sealed class ThreadStaticUserPlugin : IGatewayPlugin
{
    [ThreadStatic]
    private static StringBuilder? t_scratch;

    public ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        (t_scratch ??= new StringBuilder()).Clear().Append(context.RouteId);
        return next(context);
    }
}

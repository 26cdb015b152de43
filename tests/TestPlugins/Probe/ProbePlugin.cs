using Gateway.Plugins;

namespace Probe;

/// <summary>A configurable middleware-shaped plugin for the gateway's functional tests.</summary>
public sealed class ProbePlugin(PluginSetup setup) : IGatewayPlugin, IAsyncInitializable
{
    private readonly ProbeSteps _steps = new(setup);

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => _steps.InitializeAsync(cancellationToken);

    public async ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        if (await _steps.OnRequestAsync(context))
        {
            await next(context);
            _steps.OnResponse(context);
        }
    }
}

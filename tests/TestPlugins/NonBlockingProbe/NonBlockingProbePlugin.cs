using Gateway.Plugins;

namespace Probe;

/// <summary>The filter probe marked <see cref="NonBlockingAttribute"/>: the gateway runs its steps wherever the request is.</summary>
[NonBlocking]
public sealed class NonBlockingProbePlugin(PluginSetup setup) : IGatewayFilter
{
    private readonly ProbeSteps _steps = new(setup);

    public ValueTask<bool> OnRequestAsync(PluginContext context) => _steps.OnRequestAsync(context);

    public void OnResponse(PluginContext context) => _steps.OnResponse(context);
}

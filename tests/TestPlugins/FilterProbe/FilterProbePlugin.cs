using Gateway.Plugins;

namespace Probe;

/// <summary>The probe as an <see cref="IGatewayFilter"/>: the same steps, which the gateway calls itself.</summary>
public sealed class FilterProbePlugin(PluginSetup setup) : IGatewayFilter, IAsyncInitializable
{
    private readonly ProbeSteps _steps = new(setup);

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => _steps.InitializeAsync(cancellationToken);

    public ValueTask<bool> OnRequestAsync(PluginContext context) => _steps.OnRequestAsync(context);

    public void OnResponse(PluginContext context) => _steps.OnResponse(context);
}

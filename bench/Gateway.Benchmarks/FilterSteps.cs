using Gateway.Plugins;

namespace Gateway.Benchmarks;

/// <summary>A filter called as the runner calls it on a route of filters only, the upstream answering at once.</summary>
internal static class FilterSteps
{
    /// <returns>Whether the filter let the request pass.</returns>
    public static bool Run(IGatewayFilter filter, PluginContext context)
    {
        var step = filter.OnRequestAsync(context);
        var passed = step.IsCompletedSuccessfully ? step.Result : step.AsTask().GetAwaiter().GetResult();
        if (passed)
        {
            filter.OnResponse(context);
        }
        return passed;
    }
}

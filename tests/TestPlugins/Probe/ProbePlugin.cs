using Gateway.Plugins;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Probe;

/// <summary>A configurable middleware-shaped plugin for the gateway's functional tests.</summary>
public sealed class ProbePlugin(PluginSetup setup) : IGatewayPlugin, IAsyncInitializable
{
    private readonly ProbeSteps _steps = new(setup);

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => _steps.InitializeAsync(cancellationToken);

    public async ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        if (!await _steps.OnRequestAsync(context))
        {
            return;
        }
        if (_steps.Options.Detach)
        {
            var started = context.TryStartDetachedRequest(copy => GoOnDetachedAsync(copy, next));
            context.HttpContext.Response.StatusCode = StatusCodes.Status202Accepted;
            context.HttpContext.Response.Headers["x-detached"] = started ? "true" : "false";
            return;
        }
        await next(context);
        _steps.OnResponse(context);
    }

    private async ValueTask GoOnDetachedAsync(PluginContext copy, PluginDelegate next)
    {
        await next(copy);
        var response = copy.HttpContext.Response;
        _steps.Logger.LogInformation("probe '{Tag}' detached copy got {Status} x-var={Var} x-order-out={OrderOut} aborted={Aborted}",
            _steps.Options.Tag, response.StatusCode, response.Headers["x-var"].ToString(), response.Headers["x-order-out"].ToString(),
            copy.HttpContext.RequestAborted.IsCancellationRequested);
    }
}

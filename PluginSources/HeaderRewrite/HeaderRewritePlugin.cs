namespace Gateway.Plugins.HeaderRewrite;

/// <summary>
/// Sets, appends, removes and renames request headers on the way upstream and response headers on the way back.
/// </summary>
public sealed class HeaderRewritePlugin : IGatewayPlugin
{
    private readonly HeaderRules? _request;
    private readonly HeaderRules? _response;

    public HeaderRewritePlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<HeaderRewriteOptions>();
        _request = HeaderRules.Create(options.Request, "$.request");
        _response = HeaderRules.Create(options.Response, "$.response");
        if (_request is null && _response is null)
        {
            throw new PluginConfigurationException("$", "no rules: give \"request\" and/or \"response\" with set, append, remove or rename.");
        }
    }

    public ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        _request?.Apply(context.HttpContext.Request.Headers, context);
        if (_response is null)
        {
            return next(context);
        }
        var pending = next(context);
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            ApplyResponse(context);
            return default;
        }
        return ApplyResponseAfterAsync(pending, context);
    }

    private async ValueTask ApplyResponseAfterAsync(ValueTask pending, PluginContext context)
    {
        await pending.ConfigureAwait(false);
        ApplyResponse(context);
    }

    private void ApplyResponse(PluginContext context)
    {
        // A later stage may have answered with a body already; its headers are gone then.
        if (!context.HttpContext.Response.HasStarted)
        {
            _response!.Apply(context.HttpContext.Response.Headers, context);
        }
    }
}

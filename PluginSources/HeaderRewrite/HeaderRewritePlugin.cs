namespace Gateway.Plugins.HeaderRewrite;

/// <summary>
/// Sets, appends, removes and renames request headers on the way upstream and response headers on the way back.
/// </summary>
[NonBlocking]
public sealed class HeaderRewritePlugin : IGatewayFilter
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

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _request?.Apply(context.HttpContext.Request.Headers, context);
        return new ValueTask<bool>(true);
    }

    public void OnResponse(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // A later stage may have answered with a body already; its headers are gone then.
        if (_response is not null && !context.HttpContext.Response.HasStarted)
        {
            _response.Apply(context.HttpContext.Response.Headers, context);
        }
    }
}

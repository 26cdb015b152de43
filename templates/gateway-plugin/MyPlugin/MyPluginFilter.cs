using Gateway.Plugins;

namespace MyPlugin;

/// <summary>
/// A filter: <see cref="OnRequestAsync"/> runs before the origin, <see cref="OnResponse"/> once its status and headers
/// are in. One instance serves every request of its pipeline entry, concurrently: keep per-request state in
/// <see cref="PluginContext.Vars"/>, not in fields.
/// </summary>
// Its steps never wait on a thread, so the gateway may run them on its socket threads; take this off if a step of
// yours may block (synchronous I/O, .Result, a long lock), and the gateway moves each step to the thread pool first.
[NonBlocking]
public sealed class MyPluginFilter : IGatewayFilter
{
    private readonly string _header;
    private readonly string _seenHeader;
    private readonly string _value;

    /// <summary>Reads and checks the config once, at reload; an exception here rejects the reload, naming the field.</summary>
    public MyPluginFilter(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<MyPluginOptions>();
        if (options.Header.Length == 0 || !options.Header.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new PluginConfigurationException("$.header", $"'{options.Header}' is not a header name");
        }
        _header = options.Header;
        _seenHeader = options.Header + "-seen";
        _value = options.Value;
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        context.HttpContext.Request.Headers[_header] = _value;
        // True: go on toward the origin. False: this filter answered (set the response, give DeferResponseBody a body).
        return new ValueTask<bool>(true);
    }

    public void OnResponse(PluginContext context) => context.HttpContext.Response.Headers[_seenHeader] = _value;
}

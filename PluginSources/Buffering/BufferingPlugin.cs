using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Buffering;

/// <summary>
/// Spoon-feeds slow clients (nginx's <c>proxy_buffering</c>): the upstream's answer is read whole into memory as fast
/// as the upstream sends it, so its connection goes back to the pool at once, and the client is then fed at its own
/// pace. Bounded per answer (<c>maxBytes</c>) and per entry (<c>maxTotalBytes</c>): an answer past either streams
/// as it would unbuffered, and so does a stream of events (<c>text/event-stream</c>), which must not wait.
/// </summary>
[NonBlocking]
public sealed class BufferingPlugin : IGatewayFilter
{
    private static readonly ValueTask<bool> Pass = new(true);

    private readonly int _maxBytes;
    private readonly MemoryBudget _budget;

    public BufferingPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<BufferingOptions>();
        _maxBytes = options.MaxBytes switch
        {
            null => 1 << 20,
            > 0 and var max => max,
            _ => throw new PluginConfigurationException("$.maxBytes", "must be more than zero"),
        };
        var total = options.MaxTotalBytes switch
        {
            null => 64L << 20,
            > 0 and var all => all,
            _ => throw new PluginConfigurationException("$.maxTotalBytes", "must be more than zero"),
        };
        if (total < _maxBytes)
        {
            throw new PluginConfigurationException("$.maxTotalBytes", $"must be at least maxBytes ({_maxBytes})");
        }
        _budget = new MemoryBudget(total);
    }

    /// <summary>Wraps the body now, before any inner stage does, so what is held is what the client gets.</summary>
    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            context.TryWrapResponseBody(body => new BufferingStream(body, http.Response, _maxBytes, _budget));
        }
        return Pass;
    }

    public void OnResponse(PluginContext context)
    {
    }
}

namespace Gateway.Plugins;

/// <summary>
/// A plugin whose work splits into a step before the upstream and a synchronous step after it, like a Zuul filter or
/// an APISIX phase handler. On a route whose stages are all filters the gateway calls these two methods directly and
/// runs the <see cref="OnResponse"/> steps inside the forwarder, with no asynchronous frame held around the rest of
/// the pipeline, which makes such a pipeline cheaper per request than the same work written as
/// <see cref="IGatewayPlugin.InvokeAsync"/>. On a route that also has other plugins, the default
/// <see cref="IGatewayPlugin.InvokeAsync"/> below runs the two steps around <c>next</c>, with the same behaviour.
/// </summary>
/// <remarks>
/// Keep what <see cref="OnResponse"/> needs from <see cref="OnRequestAsync"/> in <see cref="PluginContext.Vars"/> or
/// on the request itself: one instance serves every request, and nothing else carries state from one step to the other.
/// </remarks>
public interface IGatewayFilter : IGatewayPlugin
{
    /// <summary>
    /// Runs before the request goes on toward the upstream: change the request, narrow the destinations, or answer.
    /// Complete synchronously when you can; a pending result costs the request an asynchronous frame.
    /// </summary>
    /// <param name="context">The request being proxied.</param>
    /// <returns>
    /// True to go on. False when this filter answered the request itself (status and headers set on the response, the
    /// body given to <see cref="PluginContext.DeferResponseBody"/>): no later stage and no upstream see the request,
    /// and the <see cref="OnResponse"/> steps of the filters before this one still run, but not this filter's own.
    /// </returns>
    ValueTask<bool> OnRequestAsync(PluginContext context);

    /// <summary>
    /// Runs once the upstream's status and headers (or a later stage's answer) are in <see cref="PluginContext.HttpContext"/>'s
    /// response and not yet sent, in the reverse order of <see cref="OnRequestAsync"/>; only if this filter's
    /// <see cref="OnRequestAsync"/> returned true. Change the status and headers here; it must not block or write the body.
    /// </summary>
    /// <param name="context">The request being proxied.</param>
    void OnResponse(PluginContext context);

    /// <summary>Runs the filter as a middleware stage: <see cref="OnRequestAsync"/>, <c>next</c>, <see cref="OnResponse"/>.</summary>
    async ValueTask IGatewayPlugin.InvokeAsync(PluginContext context, PluginDelegate next)
    {
        if (await OnRequestAsync(context).ConfigureAwait(false))
        {
            await next(context).ConfigureAwait(false);
            OnResponse(context);
        }
    }
}

namespace Gateway.Plugins;

/// <summary>
/// A pipeline stage written in C#. The gateway creates one instance per <c>plugins.json</c> entry at reload,
/// through a public constructor that takes a <see cref="PluginSetup"/> (or none), and calls it concurrently for
/// every request on the entry's routes until the next reload drains it. An instance that implements
/// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> is disposed after its last request.
/// </summary>
public interface IGatewayPlugin
{
    /// <summary>
    /// Handles one request. Change the request, then <c>await next(context)</c> to continue toward the upstream;
    /// after it returns the upstream's status and headers are in <see cref="PluginContext.HttpContext"/>'s response
    /// and not yet sent, so they can still be changed. Return without calling <paramref name="next"/> to answer
    /// the request yourself.
    /// </summary>
    /// <param name="context">The request being proxied.</param>
    /// <param name="next">The rest of the pipeline, ending at the upstream. Call it at most once.</param>
    ValueTask InvokeAsync(PluginContext context, PluginDelegate next);
}

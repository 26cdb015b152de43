namespace Gateway.Plugins;

/// <summary>
/// A plugin with work to do before it serves that should not block its constructor: fetching signing keys, warming a
/// cache, opening a connection; the counterpart of <see cref="IAsyncDisposable"/>. The gateway awaits
/// <see cref="InitializeAsync"/> after constructing every plugin of a new pipeline and before that pipeline serves any
/// request, all the pipeline's plugins at once, each within <c>Gateway:PluginInitializeTimeout</c> (10 s by default).
/// </summary>
/// <remarks>
/// If it throws or runs out of time, the reload is rejected naming the entry (a <see cref="PluginConfigurationException"/>
/// names the config field too), the plugin is disposed, and the previous pipeline keeps serving; at start, the gateway
/// does not start. A plugin that can serve without what it is fetching (with last known keys, say) should log and return
/// instead of throwing.
/// </remarks>
public interface IAsyncInitializable
{
    /// <summary>Gets the plugin ready to serve. Called once, after the constructor and before the first request.</summary>
    /// <param name="cancellationToken">Canceled when the initialization timeout passes or the reload is abandoned.</param>
    ValueTask InitializeAsync(CancellationToken cancellationToken);
}

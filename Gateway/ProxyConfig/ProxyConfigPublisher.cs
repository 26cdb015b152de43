using Yarp.ReverseProxy.Configuration;

namespace Gateway.ProxyConfig;

/// <summary>
/// The one source of YARP's routes and clusters: what the last successful reload validated together with the pipeline,
/// never a configuration file as it changes on disk. Publishing waits until YARP has applied the new configuration.
/// </summary>
internal sealed class ProxyConfigPublisher : IConfigChangeListener
{
    private static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(30);

    private readonly InMemoryConfigProvider _provider = new([], [], "empty");
    private Pending? _pending;

    /// <summary>What YARP reads its configuration from.</summary>
    public IProxyConfigProvider Provider => _provider;

    /// <summary>Hands YARP <paramref name="routes"/> and waits until it serves them.</summary>
    /// <exception cref="InvalidOperationException">YARP refused them; it keeps serving what it had.</exception>
    public async Task PublishAsync(ProxyRoutes routes, string revision, CancellationToken cancellationToken)
    {
        var pending = new Pending(revision);
        Volatile.Write(ref _pending, pending);
        _provider.Update(routes.Routes, routes.Clusters, revision);
        await pending.Applied.Task.WaitAsync(ApplyTimeout, cancellationToken).ConfigureAwait(false);
    }

    void IConfigChangeListener.ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
        if (PendingIn(proxyConfigs) is { } pending)
        {
            pending.Applied.TrySetResult();
        }
    }

    void IConfigChangeListener.ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception)
    {
        if (PendingIn(proxyConfigs) is { } pending)
        {
            pending.Applied.TrySetException(new InvalidOperationException("YARP refused the proxy configuration: " + exception.Message, exception));
        }
    }

    void IConfigChangeListener.ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) =>
        Volatile.Read(ref _pending)?.Applied.TrySetException(new InvalidOperationException("YARP could not load the proxy configuration: " + exception.Message, exception));

    void IConfigChangeListener.ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
    }

    private Pending? PendingIn(IReadOnlyList<IProxyConfig> proxyConfigs) =>
        Volatile.Read(ref _pending) is { } pending && proxyConfigs.Any(config => config.RevisionId == pending.Revision) ? pending : null;

    private sealed record Pending(string Revision)
    {
        public TaskCompletionSource Applied { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

namespace Gateway.Plugins;

/// <summary>
/// A plugin that stores responses implements this so that the admin API's <c>POST /admin/cache/purge</c> reaches it.
/// The gateway calls a route or key purge only on stages whose <c>plugins.json</c> entry runs on that route, a tag purge on all.
/// </summary>
public interface IResponseCache
{
    /// <summary>Drops every response stored for a route, on every gateway node that shares the cache.</summary>
    /// <param name="routeId">The route's id.</param>
    /// <param name="cancellationToken">Cancels the purge.</param>
    ValueTask PurgeRouteAsync(string routeId, CancellationToken cancellationToken);

    /// <summary>Drops the response stored for a route under one key, as the plugin documents its keys.</summary>
    /// <param name="routeId">The route's id.</param>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the purge.</param>
    ValueTask PurgeKeyAsync(string routeId, string key, CancellationToken cancellationToken);

    /// <summary>Drops every response stored with a tag, whatever its route, on every gateway node that shares the cache.</summary>
    /// <param name="tag">The tag, as the plugin documents how responses get one.</param>
    /// <param name="cancellationToken">Cancels the purge.</param>
    ValueTask PurgeTagAsync(string tag, CancellationToken cancellationToken);
}

using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Each route's cache generation, part of every key stored for it. Purging a route writes a new generation to the
/// shared cache, so every node stops finding the route's entries (they expire on their own) without the cache
/// having to list keys. Nodes re-read the generation at most once a second, in the background, so a purge made on
/// another node takes effect here within about a second; one made here, at once.
/// </summary>
internal sealed class RouteGenerations(IDistributedCache cache, TimeProvider time)
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, Generation> _routes = new(StringComparer.Ordinal);

    /// <summary>The key prefix of a route's current generation: <c>gwc:{route}:{generation}:</c>.</summary>
    public ValueTask<string> PrefixAsync(string route)
    {
        if (_routes.TryGetValue(route, out var generation))
        {
            if (time.GetElapsedTime(generation.ReadAt) > RefreshInterval && Interlocked.Exchange(ref generation.Refreshing, 1) == 0)
            {
                _ = RefreshAsync(route, generation);
            }
            return new(generation.Prefix);
        }
        return new(FirstReadAsync(route));
    }

    public async Task PurgeAsync(string route, CancellationToken cancellationToken)
    {
        var value = Guid.NewGuid().ToString("N")[..16];
        await cache.SetAsync(GenerationKey(route), Encoding.UTF8.GetBytes(value), new DistributedCacheEntryOptions(), cancellationToken).ConfigureAwait(false);
        _routes[route] = new Generation(Prefix(route, value), time.GetTimestamp());
    }

    private async Task<string> FirstReadAsync(string route)
    {
        var generation = new Generation(Prefix(route, await ReadAsync(route).ConfigureAwait(false)), time.GetTimestamp());
        return _routes.GetOrAdd(route, generation).Prefix;
    }

    private async Task RefreshAsync(string route, Generation generation)
    {
        try
        {
            var prefix = Prefix(route, await ReadAsync(route).ConfigureAwait(false));
            _routes.TryUpdate(route, new Generation(prefix, time.GetTimestamp()), generation);
        }
        catch (Exception)
        {
            // A cache that throws instead of missing: keep the generation known until a later read works.
        }
        finally
        {
            Volatile.Write(ref generation.Refreshing, 0);
        }
    }

    // A route never purged (or a cache that cannot answer) is generation 0.
    private async Task<string> ReadAsync(string route) =>
        await cache.GetAsync(GenerationKey(route)).ConfigureAwait(false) is { } value ? Encoding.UTF8.GetString(value) : "0";

    private static string GenerationKey(string route) => $"gwc:{route}:generation";

    private static string Prefix(string route, string generation) => $"gwc:{route}:{generation}:";

    private sealed class Generation(string prefix, long readAt)
    {
        public int Refreshing;

        public string Prefix { get; } = prefix;

        public long ReadAt { get; } = readAt;
    }
}

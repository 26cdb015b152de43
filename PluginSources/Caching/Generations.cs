using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace Gateway.Plugins.Caching;

/// <summary>
/// The current generation of each route (part of every key stored for it) or tag (recorded in every entry that
/// carries it). Purging writes a new generation to the shared cache, so every node stops using the old entries (they
/// expire on their own) without the cache having to list keys. Nodes re-read a generation at most once a second, in
/// the background, so a purge made on another node takes effect here within about a second; one made here, at once.
/// </summary>
/// <param name="cache">Where generations are shared.</param>
/// <param name="time">The clock.</param>
/// <param name="scope">What the names are, <c>route</c> or <c>tag</c>; keeps their keys apart.</param>
internal sealed class Generations(IDistributedCache cache, TimeProvider time, string scope)
{
    /// <summary>The generation of a name never purged, or of one the cache could not be asked about.</summary>
    public const string Initial = "0";

    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, Generation> _names = new(StringComparer.Ordinal);

    public ValueTask<Generation> CurrentAsync(string name)
    {
        if (_names.TryGetValue(name, out var generation))
        {
            if (time.GetElapsedTime(generation.ReadAt) > RefreshInterval && Interlocked.Exchange(ref generation.Refreshing, 1) == 0)
            {
                _ = RefreshAsync(name, generation);
            }
            return new(generation);
        }
        return new(FirstReadAsync(name));
    }

    public async Task PurgeAsync(string name, CancellationToken cancellationToken)
    {
        var value = Guid.NewGuid().ToString("N")[..16];
        await cache.SetAsync(GenerationKey(name), Encoding.UTF8.GetBytes(value), new DistributedCacheEntryOptions(), cancellationToken).ConfigureAwait(false);
        _names[name] = new Generation(name, value, time.GetTimestamp());
    }

    private async Task<Generation> FirstReadAsync(string name)
    {
        var generation = new Generation(name, await ReadAsync(name).ConfigureAwait(false), time.GetTimestamp());
        return _names.GetOrAdd(name, generation);
    }

    private async Task RefreshAsync(string name, Generation generation)
    {
        try
        {
            _names.TryUpdate(name, new Generation(name, await ReadAsync(name).ConfigureAwait(false), time.GetTimestamp()), generation);
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

    private async Task<string> ReadAsync(string name) =>
        await cache.GetAsync(GenerationKey(name)).ConfigureAwait(false) is { } value ? Encoding.UTF8.GetString(value) : Initial;

    private string GenerationKey(string name) => $"gwc:{scope}:{name}:generation";

    /// <summary>One read of a name's generation.</summary>
    internal sealed class Generation(string name, string value, long readAt)
    {
        public int Refreshing;

        public string Value { get; } = value;

        /// <summary>The key prefix of a route in this generation: <c>gwc:{route}:{generation}:</c>.</summary>
        public string Prefix { get; } = $"gwc:{name}:{value}:";

        public long ReadAt { get; } = readAt;
    }
}

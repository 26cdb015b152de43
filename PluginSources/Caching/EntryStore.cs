using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Stored responses and <c>Vary</c> rules in the gateway's cache, decoded. In front of a shared (Redis) cache it keeps
/// a node-local copy of what it read or wrote for a short while, so a hot key costs one Redis read per node per
/// <c>localSeconds</c> instead of one per request; an entry changed through another node is seen here once the local
/// copy lapses. The in-process cache needs no such copy; what it holds is decoded once per stored array.
/// </summary>
internal sealed class EntryStore : IDisposable
{
    // What a local entry costs beyond its body: the decoded headers and the bookkeeping.
    private const int EntryOverheadBytes = 512;
    private readonly IDistributedCache _cache;
    private readonly MemoryCache? _local;
    private readonly TimeSpan _localLifetime;
    // Entries decoded from arrays the in-process cache still holds; each goes when the cache lets go of its array.
    private readonly ConditionalWeakTable<byte[], object> _decoded = [];

    public EntryStore(IDistributedCache cache, TimeSpan localLifetime, long localMaxBytes)
    {
        _cache = cache;
        _localLifetime = localLifetime;
        if (localLifetime > TimeSpan.Zero && cache is not MemoryDistributedCache)
        {
            _local = new MemoryCache(new MemoryCacheOptions { SizeLimit = localMaxBytes });
        }
    }

    /// <summary>A <see cref="StoredResponse"/>, a <see cref="VaryRule"/>, or null when nothing (readable) is stored.</summary>
    public async ValueTask<object?> GetAsync(string key)
    {
        if (_local is not null && _local.TryGetValue(key, out var held))
        {
            return held;
        }
        var data = await _cache.GetAsync(key).ConfigureAwait(false);
        if (data is null)
        {
            return null;
        }
        // The in-process cache hands out the array it holds: decode it once, not on every hit.
        if (_local is null && _decoded.TryGetValue(data, out var decoded))
        {
            return decoded;
        }
        object? entry = VaryRule.IsRule(data) ? VaryRule.Deserialize(data) : StoredResponse.Deserialize(data);
        if (entry is not null)
        {
            if (_local is null)
            {
                _decoded.AddOrUpdate(data, entry);
            }
            Remember(key, entry, data.Length, _localLifetime);
        }
        return entry;
    }

    public Task SetAsync(string key, StoredResponse response, TimeSpan keepFor) => SetAsync(key, response, response.Serialize(), keepFor);

    public Task SetAsync(string key, VaryRule rule, TimeSpan keepFor) => SetAsync(key, rule, rule.Serialize(), keepFor);

    private Task SetAsync(string key, object entry, byte[] data, TimeSpan keepFor)
    {
        Remember(key, entry, data.Length, keepFor < _localLifetime ? keepFor : _localLifetime);
        return _cache.SetAsync(key, data, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = keepFor });
    }

    public Task RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        _local?.Remove(key);
        return _cache.RemoveAsync(key, cancellationToken);
    }

    private void Remember(string key, object entry, int size, TimeSpan lifetime) =>
        _local?.Set(key, entry, new MemoryCacheEntryOptions { Size = size + EntryOverheadBytes, AbsoluteExpirationRelativeToNow = lifetime });

    public void Dispose() => _local?.Dispose();
}

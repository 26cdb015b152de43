using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Purging by tag: the origin tags a response (<c>Cache-Tag</c> by default), the entry is stored with each tag's
/// current generation, and purging a tag moves its generation on, so every entry stamped with the old one is stale
/// at once, on every node sharing the cache.
/// </summary>
/// <param name="tagHeader">The response header that carries the tags; null when tagging is off.</param>
internal sealed class TagStamps(Generations tags, string? tagHeader)
{
    /// <summary>The origin's tags for the response, taken off it: they are for the cache, not the client.</summary>
    public string[] Take(HttpResponse response)
    {
        if (tagHeader is null || !response.Headers.TryGetValue(tagHeader, out var values))
        {
            return [];
        }
        response.Headers.Remove(tagHeader);
        return values.SelectMany(value => (value ?? "").Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Each tag with its current generation, to store with the entry.</summary>
    public async Task<KeyValuePair<string, string>[]> StampAsync(string[] names)
    {
        var stamped = new KeyValuePair<string, string>[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            stamped[i] = new(names[i], (await tags.CurrentAsync(names[i]).ConfigureAwait(false)).Value);
        }
        return stamped;
    }

    /// <summary>Whether no tag the entry carries was purged since it was stored.</summary>
    public async ValueTask<bool> AreCurrentAsync(StoredResponse stored)
    {
        foreach (var (tag, generation) in stored.Tags)
        {
            if ((await tags.CurrentAsync(tag).ConfigureAwait(false)).Value != generation)
            {
                return false;
            }
        }
        return true;
    }

    public Task PurgeAsync(string tag, CancellationToken cancellationToken) => tags.PurgeAsync(tag, cancellationToken);
}

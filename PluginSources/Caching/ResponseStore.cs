using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Stored responses by key, with their variants (RFC 9111 §4.1): under a primary key the store holds either one
/// response, or the <c>Vary</c> rule that names the request headers choosing among the responses stored beside it.
/// </summary>
/// <param name="keepStale">How long a response is kept past its lifetime, in milliseconds, for revalidation and <c>max-stale</c>.</param>
/// <param name="staleOnError">How long past its lifetime it may answer for a failing origin, in milliseconds.</param>
internal sealed partial class ResponseStore(EntryStore entries, TimeProvider time, long keepStale, long staleOnError, ILogger logger)
{
    /// <summary>The stored response for a request, following a <c>Vary</c> rule to the request's variant.</summary>
    public async ValueTask<(StoredResponse? Stored, VaryRule? Rule, string StorageKey)> LookupAsync(string primaryKey, HttpRequest request)
    {
        switch (await entries.GetAsync(primaryKey).ConfigureAwait(false))
        {
            case StoredResponse stored:
                return (stored, null, primaryKey);
            case VaryRule rule:
                var variantKey = VariantKey(primaryKey, rule, CacheKeyBuilder.VaryValues(request, rule.Headers));
                return (await entries.GetAsync(variantKey).ConfigureAwait(false) as StoredResponse, rule, variantKey);
            default:
                return (null, null, primaryKey);
        }
    }

    /// <summary>
    /// Stores a response under its primary key, or as the variant its <paramref name="varyValues"/> select, keeping
    /// (or starting) the rule. A failure is logged: the response was served, it is just not cached.
    /// </summary>
    public async Task StoreAsync(string primaryKey, VaryRule? rule, string[] varyHeaders, string varyValues, StoredResponse stored)
    {
        try
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            // Kept past its lifetime so it can be revalidated, or served stale where a directive or the config allows.
            var keepFor = Math.Max(0, stored.FreshnessLifetime - stored.InitialAge)
                + Math.Max(Math.Max(stored.StaleWhileRevalidate, stored.StaleIfError), Math.Max(keepStale, staleOnError));
            if (keepFor <= 0)
            {
                return;
            }
            var storageKey = primaryKey;
            if (varyHeaders.Length > 0)
            {
                // Variants of one rule share its id; a response that varies on other headers starts a new rule.
                var expiresAt = now + keepFor;
                rule = rule is not null && rule.SameHeaders(varyHeaders)
                    ? rule with { ExpiresAt = Math.Max(rule.ExpiresAt, expiresAt) }
                    : new VaryRule(Guid.NewGuid().ToString("N")[..12], varyHeaders, expiresAt);
                await entries.SetAsync(primaryKey, rule, Expiry(rule.ExpiresAt - now)).ConfigureAwait(false);
                storageKey = VariantKey(primaryKey, rule, varyValues);
            }
            await entries.SetAsync(storageKey, stored, Expiry(keepFor)).ConfigureAwait(false);
            Log.Stored(logger, storageKey);
        }
        catch (Exception ex)
        {
            Log.StoreFailed(logger, ex);
        }
    }

    public Task RemoveAsync(string key, CancellationToken cancellationToken = default) => entries.RemoveAsync(key, cancellationToken);

    private static TimeSpan Expiry(long milliseconds) => TimeSpan.FromMilliseconds(Math.Max(milliseconds, 1000));

    private static string VariantKey(string primaryKey, VaryRule rule, string varyValues) => primaryKey + "#" + rule.Id + varyValues;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Storing a response failed; it is served but not cached.")]
        public static partial void StoreFailed(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Debug, "Stored {Key}.")]
        public static partial void Stored(ILogger logger, string key);
    }
}

using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;

namespace Gateway.Caching;

/// <summary>
/// The Redis cache as plugins get it: an operation that fails or takes longer than the bound is a miss (reads) or
/// is dropped (writes), so a request is served uncached rather than failed, and <see cref="CacheHealth"/> says
/// degraded until an operation works again. While Redis is unreachable the client fails at once (it reconnects in the
/// background), so requests do not queue behind it.
/// </summary>
internal sealed partial class ResilientDistributedCache(IDistributedCache inner, CacheHealth health, TimeSpan timeout, ILogger<ResilientDistributedCache> logger)
    : IDistributedCache, IDisposable
{
    public void Dispose() => (inner as IDisposable)?.Dispose();

    /// <summary>
    /// Opens the connection before the first request needs it: connecting takes longer than one operation may, so
    /// without this the first requests of a process would all find the cache failing.
    /// </summary>
    public async Task ConnectAsync(TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var probe = inner.GetAsync("connect-probe", cancellationToken);
        try
        {
            await probe.WaitAsync(connectTimeout, cancellationToken).ConfigureAwait(false);
            health.Succeeded();
        }
        catch (Exception ex) when (IsCacheFailure(ex))
        {
            Degrade(probe, ex);
        }
    }

    /// <summary>
    /// Asks Redis for a key no request uses, within the operation timeout, so health follows Redis itself rather than
    /// the last request that happened to touch it: an outage shows without traffic, and so does the recovery.
    /// </summary>
    public Task ProbeAsync(CancellationToken cancellationToken) => RunAsync(inner.GetAsync("health-probe", cancellationToken), fallback: null);

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => RunAsync(inner.GetAsync(key, token), fallback: null);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        RunAsync(inner.SetAsync(key, value, options, token));

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public Task RefreshAsync(string key, CancellationToken token = default) => RunAsync(inner.RefreshAsync(key, token));

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public Task RemoveAsync(string key, CancellationToken token = default) => RunAsync(inner.RemoveAsync(key, token));

    private async Task RunAsync(Task operation)
    {
        try
        {
            await operation.WaitAsync(timeout).ConfigureAwait(false);
            health.Succeeded();
        }
        catch (Exception ex) when (IsCacheFailure(ex))
        {
            Degrade(operation, ex);
        }
    }

    private async Task<T> RunAsync<T>(Task<T> operation, T fallback)
    {
        try
        {
            var result = await operation.WaitAsync(timeout).ConfigureAwait(false);
            health.Succeeded();
            return result;
        }
        catch (Exception ex) when (IsCacheFailure(ex))
        {
            Degrade(operation, ex);
            return fallback;
        }
    }

    private static bool IsCacheFailure(Exception exception) => exception is RedisException or TimeoutException or ObjectDisposedException;

    private void Degrade(Task operation, Exception exception)
    {
        // The abandoned operation may still fault later; observe it so it is not reported as unobserved.
        _ = operation.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        if (health.LastError is null)
        {
            Log.Degraded(logger, exception.Message);
        }
        health.Failed(exception.Message);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.CacheDegraded, LogLevel.Warning, "The Redis cache is failing; requests are served uncached until it answers again: {Error}")]
        public static partial void Degraded(ILogger logger, string error);
    }
}

using Gateway.Plugins;
using StackExchange.Redis;

namespace Gateway.Caching;

/// <summary>
/// <see cref="ISharedScripts"/> on the gateway's Redis: each call within the cache's operation timeout, its outcome
/// reported to <see cref="CacheHealth"/> like a cache operation's, so <c>/healthz</c> says degraded while scripts fail.
/// </summary>
internal sealed class RedisSharedScripts(RedisConnection connection, CacheHealth health, TimeSpan timeout) : ISharedScripts
{
    public async ValueTask<long[]> EvaluateAsync(string script, string[] keys, long[] arguments)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(arguments);
        var redisKeys = new RedisKey[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            redisKeys[i] = keys[i];
        }
        var values = new RedisValue[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            values[i] = arguments[i];
        }
        Task<RedisResult>? evaluation = null;
        try
        {
            var redis = await connection.GetAsync().WaitAsync(timeout).ConfigureAwait(false);
            // StackExchange.Redis loads the script once per server and then sends its SHA-1 (EVALSHA).
            evaluation = redis.GetDatabase().ScriptEvaluateAsync(script, redisKeys, values);
            var result = await evaluation.WaitAsync(timeout).ConfigureAwait(false);
            health.Succeeded();
            return result.Resp2Type == ResultType.Array ? (long[])result! : [(long)result];
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or InvalidCastException)
        {
            // The abandoned operation may still fault later; observe it so it is not reported as unobserved.
            _ = evaluation?.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            if (ex is not RedisServerException and not InvalidCastException)
            {
                health.Failed(ex.Message);
            }
            throw new SharedStoreException($"The shared store failed: {ex.Message}", ex);
        }
    }
}

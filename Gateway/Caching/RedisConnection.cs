using StackExchange.Redis;

namespace Gateway.Caching;

/// <summary>
/// The gateway's one connection to Redis, shared by the cache and the shared scripts: opened on first use, failing
/// fast while Redis is unreachable and reconnecting in the background.
/// </summary>
internal sealed class RedisConnection(ConfigurationOptions options) : IDisposable
{
    private readonly Lazy<Task<IConnectionMultiplexer>> _connection = new(() => Connect(options));

    public Task<IConnectionMultiplexer> GetAsync() => _connection.Value;

    private static async Task<IConnectionMultiplexer> Connect(ConfigurationOptions options) =>
        await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);

    public void Dispose()
    {
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            _connection.Value.Result.Dispose();
        }
    }
}

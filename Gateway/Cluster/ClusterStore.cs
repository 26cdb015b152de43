using Gateway.Caching;
using StackExchange.Redis;

namespace Gateway.Cluster;

/// <summary>
/// The cluster's keys and channels on the gateway's Redis, each operation one round trip within the cache's operation
/// timeout (the first also waits out the connection, within the connect timeout). Keys share one hash tag, the cluster's id, so each script's keys live together on a Redis Cluster too:
/// <c>nodes</c> (the set of node ids), <c>node:&lt;id&gt;</c> (a node's signed state, expiring unless its heartbeat renews
/// it), <c>order</c> (the newest reload order and its sequence), <c>sequence</c> (the counter orders are numbered by),
/// and the channels <c>orders</c> and <c>states</c>.
/// </summary>
internal sealed class ClusterStore(RedisConnection connection, string clusterId, TimeSpan connectTimeout, TimeSpan timeout)
{
    // Writes the node's state, renews its membership, and settles the newest order between Redis and the node: the node
    // gets a newer one it missed, or restores its own when Redis has lost it (a restart without persistence), counter
    // included, so sequences never go back.
    private const string HeartbeatScript = """
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        redis.call('SADD', KEYS[2], ARGV[1])
        if ARGV[6] == '1' then redis.call('PUBLISH', KEYS[5], ARGV[2]) end
        local stored = tonumber(redis.call('HGET', KEYS[3], 'sequence') or '0')
        local applied = tonumber(ARGV[4])
        if stored > applied then return redis.call('HGET', KEYS[3], 'message') end
        if applied > stored and ARGV[5] ~= '' then
          redis.call('HSET', KEYS[3], 'sequence', ARGV[4], 'message', ARGV[5])
          if tonumber(redis.call('GET', KEYS[4]) or '0') < applied then redis.call('SET', KEYS[4], ARGV[4]) end
        end
        return false
        """;

    // Never below what the caller has applied itself, so a counter Redis lost cannot hand out a sequence already used.
    private const string NextSequenceScript = """
        local sequence = redis.call('INCR', KEYS[1])
        local floor = tonumber(ARGV[1])
        if sequence <= floor then
          sequence = floor + 1
          redis.call('SET', KEYS[1], sequence)
        end
        return sequence
        """;

    // Kept as the newest order only if it is newer than the one stored: two orders issued at once may arrive in any order.
    private const string PublishOrderScript = """
        local stored = tonumber(redis.call('HGET', KEYS[1], 'sequence') or '0')
        if tonumber(ARGV[1]) > stored then redis.call('HSET', KEYS[1], 'sequence', ARGV[1], 'message', ARGV[2]) end
        return redis.call('PUBLISH', KEYS[2], ARGV[2])
        """;

    // The states of the nodes listed, dropping those whose state has expired (nodes that died).
    private const string ReadNodesScript = """
        local states = {}
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local state = redis.call('GET', ARGV[1] .. id)
          if state then table.insert(states, state) else redis.call('SREM', KEYS[1], id) end
        end
        return states
        """;

    private readonly string _prefix = $"gateway:cluster:{{{clusterId}}}:";

    private RedisKey Nodes => _prefix + "nodes";

    private RedisKey Order => _prefix + "order";

    private RedisKey Sequence => _prefix + "sequence";

    private RedisChannel Orders => RedisChannel.Literal(_prefix + "orders");

    private RedisChannel States => RedisChannel.Literal(_prefix + "states");

    private RedisKey NodeKey(string node) => _prefix + "node:" + node;

    /// <summary>Writes this node's state for <paramref name="timeToLive"/>, publishing it when asked.</summary>
    /// <returns>The newest order, when Redis holds one newer than <paramref name="applied"/>.</returns>
    /// <exception cref="ClusterUnavailableException"/>
    public async Task<string?> HeartbeatAsync(string node, string state, TimeSpan timeToLive, long applied, string? appliedOrder, bool publish)
    {
        var result = await RunAsync(database => database.ScriptEvaluateAsync(HeartbeatScript,
            [NodeKey(node), Nodes, Order, Sequence, States.ToString()],
            [node, state, (long)timeToLive.TotalMilliseconds, applied, appliedOrder ?? string.Empty, publish ? "1" : "0"])).ConfigureAwait(false);
        return result.IsNull ? null : (string?)result;
    }

    /// <summary>The newest order, signed as its issuer wrote it; null when none was ever issued.</summary>
    /// <exception cref="ClusterUnavailableException"/>
    public async Task<string?> ReadOrderAsync() =>
        (string?)await RunAsync(database => database.HashGetAsync(Order, "message")).ConfigureAwait(false);

    /// <summary>A sequence no order has had, above <paramref name="floor"/>.</summary>
    /// <exception cref="ClusterUnavailableException"/>
    public async Task<long> NextSequenceAsync(long floor) =>
        (long)await RunAsync(database => database.ScriptEvaluateAsync(NextSequenceScript, [Sequence], [floor])).ConfigureAwait(false);

    /// <summary>Stores the order as the newest (unless a newer one is) and publishes it to every node.</summary>
    /// <exception cref="ClusterUnavailableException"/>
    public Task PublishOrderAsync(long sequence, string order) =>
        RunAsync(database => database.ScriptEvaluateAsync(PublishOrderScript, [Order, Orders.ToString()], [sequence, order]));

    /// <summary>The signed states of the nodes alive.</summary>
    /// <exception cref="ClusterUnavailableException"/>
    public async Task<string[]> ReadNodesAsync()
    {
        var result = await RunAsync(database => database.ScriptEvaluateAsync(ReadNodesScript, [Nodes], [_prefix + "node:"])).ConfigureAwait(false);
        return (string[])result!;
    }

    /// <summary>Takes this node off the list at once.</summary>
    /// <exception cref="ClusterUnavailableException"/>
    public Task LeaveAsync(string node) => RunAsync(async database =>
    {
        var transaction = database.CreateTransaction();
        _ = transaction.KeyDeleteAsync(NodeKey(node));
        _ = transaction.SetRemoveAsync(Nodes, node);
        return await transaction.ExecuteAsync().ConfigureAwait(false);
    });

    /// <summary>
    /// Hands every message on the orders and states channels to the callbacks, on the client's own thread: they must not
    /// block. The client subscribes again by itself after a reconnection.
    /// </summary>
    /// <exception cref="ClusterUnavailableException"/>
    public async Task SubscribeAsync(Action<string> onOrder, Action<string> onState)
    {
        var redis = await Connect().ConfigureAwait(false);
        var subscriber = redis.GetSubscriber();
        await Run(Completion(subscriber.SubscribeAsync(Orders, (_, message) => onOrder(message!)))).ConfigureAwait(false);
        await Run(Completion(subscriber.SubscribeAsync(States, (_, message) => onState(message!)))).ConfigureAwait(false);
    }

    private async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation)
    {
        var redis = await Connect().ConfigureAwait(false);
        return await Run(operation(redis.GetDatabase())).ConfigureAwait(false);
    }

    private async Task<IConnectionMultiplexer> Connect()
    {
        try
        {
            return await connection.GetAsync().WaitAsync(connectTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw new ClusterUnavailableException(ex.Message, ex);
        }
    }

    private async Task<T> Run<T>(Task<T> operation)
    {
        try
        {
            return await operation.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The abandoned operation may still fault later; observe it so it is not reported as unobserved.
            _ = operation.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            throw new ClusterUnavailableException(ex.Message, ex);
        }
    }

    private static async Task<bool> Completion(Task operation)
    {
        await operation.ConfigureAwait(false);
        return true;
    }
}

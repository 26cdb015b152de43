using Gateway.Cluster;
using StackExchange.Redis;

namespace Gateway.Tests.Cluster;

/// <summary>
/// What a cluster's nodes say through its Redis, as signals a test waits on instead of polling: the states the nodes
/// publish (on their first heartbeat, and after each reload), and, once asked for, the expiry of a node's state.
/// </summary>
internal sealed class ClusterWatch : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _redis;
    private readonly ClusterSigner _signer;
    private readonly string _prefix;
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> _waiters = [];
    private readonly List<string> _seen = [];

    private ClusterWatch(ConnectionMultiplexer redis, string secret)
    {
        _redis = redis;
        _signer = new ClusterSigner(secret);
        _prefix = $"gateway:cluster:{{{_signer.ClusterId}}}:";
    }

    /// <summary>Starts watching the cluster of <paramref name="secret"/> on <paramref name="redis"/>, before its nodes start.</summary>
    public static async Task<ClusterWatch> StartAsync(string redis, string secret)
    {
        // Admin mode: ExpiryOfAsync turns on the server's expiry announcements (CONFIG SET).
        var options = ConfigurationOptions.Parse(redis);
        options.AllowAdmin = true;
        var watch = new ClusterWatch(await ConnectionMultiplexer.ConnectAsync(options), secret);
        await watch._redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(watch._prefix + "states"), (_, message) =>
        {
            if (watch._signer.Open(NodeState.Kind, message) is { } json && ClusterJson.Read<NodeState>(json) is { } state)
            {
                watch.Saw("state:" + state.Node);
            }
        });
        return watch;
    }

    /// <summary>Completes once a node named so has published its state.</summary>
    public Task StateOfAsync(Func<string, bool> node) => WaitForAsync(seen => seen.StartsWith("state:", StringComparison.Ordinal) && node(seen["state:".Length..]));

    /// <summary>Has Redis announce expired keys, and completes once <paramref name="node"/>'s state has expired.</summary>
    public async Task<Task> ExpiryOfAsync(string node)
    {
        var key = _prefix + "node:" + node;
        await _redis.GetServers()[0].ConfigSetAsync("notify-keyspace-events", "Ex");
        await _redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("__keyevent@0__:expired"), (_, expired) =>
        {
            if (expired == key)
            {
                Saw("expired:" + node);
            }
        });
        return WaitForAsync(seen => seen == "expired:" + node);
    }

    private Task WaitForAsync(Func<string, bool> match)
    {
        lock (_waiters)
        {
            if (_seen.Any(match))
            {
                return Task.CompletedTask;
            }
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, seen));
            return seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private void Saw(string what)
    {
        lock (_waiters)
        {
            _seen.Add(what);
            _waiters.RemoveAll(waiter => waiter.Match(what) && waiter.Seen.TrySetResult());
        }
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}

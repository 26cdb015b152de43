using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;
using Gateway.Caching;
using Gateway.Hosting;
using Gateway.Pipeline;

namespace Gateway.Cluster;

/// <summary>
/// This node's part in the cluster, all of it off the request path. A loop, one per node, writes the node's signed
/// state every heartbeat (which keeps it listed), applies reload orders one at a time (from the orders channel, or from
/// the newest order Redis holds when the channel's message was missed), and publishes its state as soon as a reload is
/// done. The admin API issues orders and reads the nodes through it. While Redis fails, the node serves on alone and
/// the loop keeps trying; the client resubscribes by itself.
/// </summary>
internal sealed partial class ClusterNode : IHostedLifecycleService, IDisposable
{
    private static readonly string GatewayVersion =
        typeof(ClusterNode).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private readonly ClusterOptions _options;
    private readonly ClusterSigner _signer;
    private readonly ClusterStore? _store;
    private readonly PipelineReloader _reloader;
    private readonly PipelineHolder _holder;
    private readonly ReloadHistory _history;
    private readonly CacheHealth _cache;
    private readonly GatewayListeners _listeners;
    private readonly TimeProvider _time;
    private readonly ILogger<ClusterNode> _logger;
    private readonly LogThrottle _unsigned;
    // Bounded: a flood on the channel (only someone who can write to Redis) costs a fixed amount of memory; an order
    // dropped from it is still found in Redis on the next heartbeat.
    private readonly Channel<string> _orders = Channel.CreateBounded<string>(new BoundedChannelOptions(64)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });
    private readonly CancellationTokenSource _stopping = new();
    private ImmutableList<ClusterReloadWaiter> _waiters = [];
    private Task _loop = Task.CompletedTask;
    // The last order applied (or known at start to be older than the files loaded); -1 when Redis could not say at
    // start, so the first order found is applied.
    private long _applied = -1;
    private string? _appliedOrder;
    private bool _subscribed;
    private volatile string? _lastError;
    private DateTimeOffset _startedAt;

    public ClusterNode(
        ClusterOptions options,
        ClusterSigner signer,
        ClusterStore? store,
        PipelineReloader reloader,
        PipelineHolder holder,
        ReloadHistory history,
        CacheHealth cache,
        GatewayListeners listeners,
        TimeProvider time,
        ILogger<ClusterNode> logger)
    {
        (_options, _signer, _store, _reloader, _holder, _history, _cache, _listeners, _time, _logger) =
            (options, signer, store, reloader, holder, history, cache, listeners, time, logger);
        _unsigned = new LogThrottle(time, linesPerWindow: 3, TimeSpan.FromMinutes(1));
        NodeId = options.NodeId ?? string.Empty;
    }

    /// <summary>This node's name in the cluster; known once the proxy listener is bound.</summary>
    public string NodeId { get; private set; }

    /// <summary>Why the last call to Redis failed; null while they work.</summary>
    public string? LastError => _lastError;

    private ClusterStore Store => _store ?? throw new InvalidOperationException("the cluster has no Redis");

    /// <summary>Before the first pipeline loads: the newest order now is older than the files the node is about to read.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_options.Validate(hasRedis: _store is not null).ToList() is [_, ..] problems)
        {
            throw new GatewayStartException(string.Join(" ", problems));
        }
        try
        {
            var message = await Store.ReadOrderAsync().ConfigureAwait(false);
            var order = Open<ReloadOrder>(ReloadOrder.Kind, message);
            _applied = order?.Sequence ?? 0;
            _appliedOrder = order is null ? null : message;
        }
        catch (ClusterUnavailableException ex)
        {
            Failed(ex.Message);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (NodeId.Length == 0)
        {
            NodeId = $"{Environment.MachineName}:{_listeners.ProxyPort}";
        }
        _startedAt = _time.GetUtcNow();
        Log.Joined(_logger, NodeId, _signer.ClusterId, _options.HeartbeatSeconds);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Leaves the list at once, while the server drains.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (NodeId.Length == 0)
        {
            return; // never started, so never listed
        }
        try
        {
            await Store.LeaveAsync(NodeId).ConfigureAwait(false);
        }
        catch (ClusterUnavailableException)
        {
            // Its state expires by itself.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    /// <summary>
    /// Orders every node alive, this one included, to reload from its own files, and waits for their answers, at most
    /// <see cref="ClusterOptions.ReloadWaitSeconds"/>. Each node reloads one reload at a time, like any reload.
    /// </summary>
    /// <exception cref="ClusterUnavailableException">Redis failed before the order was given: no node reloads.</exception>
    public async Task<ClusterReloadView> ReloadAsync(CancellationToken cancellationToken)
    {
        var known = await ReadNodesAsync().ConfigureAwait(false);
        var sequence = await Store.NextSequenceAsync(Math.Max(Volatile.Read(ref _applied), 0)).ConfigureAwait(false);
        var order = _signer.Sign(ReloadOrder.Kind, JsonSerializer.Serialize(new ReloadOrder(sequence, NodeId, _time.GetUtcNow()), ClusterJson.Options));
        var waiter = new ClusterReloadWaiter(sequence, known.Keys.Append(NodeId));
        ImmutableInterlocked.Update(ref _waiters, waiters => waiters.Add(waiter));
        try
        {
            await Store.PublishOrderAsync(sequence, order).ConfigureAwait(false);
            // This node applies it in its loop like every other, one reload at a time.
            _orders.Writer.TryWrite(order);
            var deadline = _time.GetUtcNow() + _options.ReloadWait;
            while (!waiter.Complete.IsCompleted && deadline - _time.GetUtcNow() is { Ticks: > 0 } left)
            {
                try
                {
                    await waiter.Complete.WaitAsync(left < _options.Heartbeat ? left : _options.Heartbeat, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // An answer published while a node's or this node's subscription was down is lost: what each node
                    // last wrote says whether it has applied the order since.
                    try
                    {
                        known = await ReadNodesAsync().ConfigureAwait(false);
                        foreach (var state in known.Values)
                        {
                            waiter.Offer(state);
                        }
                    }
                    catch (ClusterUnavailableException)
                    {
                        // Redis went away meanwhile: the answers had so far stand, the rest stay pending.
                    }
                }
            }
            return new ClusterReloadView(waiter.Results(known));
        }
        finally
        {
            ImmutableInterlocked.Update(ref _waiters, waiters => waiters.Remove(waiter));
        }
    }

    /// <summary>Every node alive as it last said of itself, and which of them serve another pipeline than most.</summary>
    /// <exception cref="ClusterUnavailableException"/>
    public async Task<ClusterView> DescribeAsync()
    {
        var nodes = (await ReadNodesAsync().ConfigureAwait(false)).Values;
        var groups = nodes.GroupBy(node => node.PipelineHash).OrderByDescending(group => group.Count()).ToList();
        var majority = groups.Count == 1 || (groups.Count > 1 && groups[0].Count() > groups[1].Count()) ? groups[0].Key : null;
        return new ClusterView(NodeId, majority, [.. nodes
            .OrderBy(node => node.Node, StringComparer.Ordinal)
            .Select(node => new NodeView(
                node.Node, node.Version, node.Generation, node.PipelineHash, node.Status == "healthy", node.LastReload,
                Drift: groups.Count > 1 && node.PipelineHash != majority,
                node.Status, node.Cache, node.Sequence, node.Proxy, node.Admin, node.StartedAt, node.HeartbeatAt))]);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var publish = true;
        var nextHeartbeat = _time.GetTimestamp();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (TakeNewestOrder() is { } order)
                {
                    await ApplyAsync(order.Order, order.Message, stopping).ConfigureAwait(false);
                    publish = true;
                }
                if (publish || _time.GetTimestamp() >= nextHeartbeat)
                {
                    nextHeartbeat = _time.GetTimestamp() + (long)(_options.Heartbeat.TotalSeconds * _time.TimestampFrequency);
                    await HeartbeatAsync(publish).ConfigureAwait(false);
                    publish = false;
                }
                await WaitAsync(_time.GetElapsedTime(_time.GetTimestamp(), nextHeartbeat), stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever went wrong, the node must keep its place in the cluster: report it and carry on at the next heartbeat.
                Log.LoopFailed(_logger, ex);
                await WaitAsync(_options.Heartbeat, stopping).ConfigureAwait(false);
            }
        }
    }

    private async Task HeartbeatAsync(bool publish)
    {
        try
        {
            if (!_subscribed)
            {
                await Store.SubscribeAsync(message => _orders.Writer.TryWrite(message), OnState).ConfigureAwait(false);
                _subscribed = true;
            }
            var state = JsonSerializer.Serialize(CurrentState(), ClusterJson.Options);
            var newer = await Store.HeartbeatAsync(NodeId, _signer.Sign(NodeState.Kind, state), _options.TimeToLive,
                Math.Max(Volatile.Read(ref _applied), 0), _appliedOrder, publish).ConfigureAwait(false);
            if (newer is not null)
            {
                _orders.Writer.TryWrite(newer);
            }
            if (_lastError is not null)
            {
                _lastError = null;
                Log.Available(_logger);
            }
        }
        catch (ClusterUnavailableException ex)
        {
            Failed(ex.Message);
        }
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken stopping)
    {
        if (delay <= TimeSpan.Zero)
        {
            return;
        }
        using var heartbeat = new CancellationTokenSource(delay, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(heartbeat.Token, stopping);
        try
        {
            await _orders.Reader.WaitToReadAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The heartbeat is due, or the node is stopping, which the loop sees.
        }
    }

    // The newest signed order not yet applied; replays and orders already applied are dropped.
    private (ReloadOrder Order, string Message)? TakeNewestOrder()
    {
        (ReloadOrder Order, string Message)? newest = null;
        while (_orders.Reader.TryRead(out var message))
        {
            if (Open<ReloadOrder>(ReloadOrder.Kind, message) is { } order && order.Sequence > Volatile.Read(ref _applied)
                && order.Sequence > (newest?.Order.Sequence ?? 0))
            {
                newest = (order, message);
            }
        }
        return newest;
    }

    private async Task ApplyAsync(ReloadOrder order, string message, CancellationToken stopping)
    {
        Volatile.Write(ref _applied, order.Sequence);
        _appliedOrder = message;
        Log.Applying(_logger, order.Sequence, order.Origin);
        await _reloader.ReloadAsync(stopping).ConfigureAwait(false);
        Offer(CurrentState());
    }

    // Another node's state, published after its reload: an answer for a reload this node is waiting on.
    private void OnState(string message)
    {
        if (!_waiters.IsEmpty && Open<NodeState>(NodeState.Kind, message) is { } state)
        {
            Offer(state);
        }
    }

    private void Offer(NodeState state)
    {
        foreach (var waiter in _waiters)
        {
            waiter.Offer(state);
        }
    }

    private NodeState CurrentState()
    {
        var serving = _holder.Current;
        var cacheOk = _cache.LastError is null;
        return new NodeState(NodeId, GatewayVersion, _listeners.ProxyUrl, _listeners.AdminUrl, _startedAt, _time.GetUtcNow(),
            serving?.Generation ?? 0, serving?.Hash, cacheOk ? "healthy" : "degraded", new NodeCache(_cache.Kind, cacheOk ? "ok" : "failing"),
            Math.Max(Volatile.Read(ref _applied), 0), _history.Records.FirstOrDefault());
    }

    private async Task<Dictionary<string, NodeState>> ReadNodesAsync()
    {
        var nodes = new Dictionary<string, NodeState>(StringComparer.Ordinal);
        foreach (var message in await Store.ReadNodesAsync().ConfigureAwait(false))
        {
            if (Open<NodeState>(NodeState.Kind, message) is { } state)
            {
                nodes[state.Node] = state;
            }
        }
        return nodes;
    }

    // A message of this cluster, or null: anything not signed with its secret is logged (a few a minute) and ignored.
    private T? Open<T>(string kind, string? message) where T : class
    {
        if (message is null)
        {
            return null;
        }
        if (_signer.Open(kind, message) is { } json && ClusterJson.Read<T>(json) is { } read)
        {
            return read;
        }
        if (_unsigned.ShouldLog(kind, out var leftOut))
        {
            Log.Unsigned(_logger, kind, leftOut);
        }
        return null;
    }

    private void Failed(string error)
    {
        if (_lastError is null)
        {
            Log.Unavailable(_logger, error);
        }
        _lastError = error;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ClusterJoined, LogLevel.Information, "Node {Node} is in cluster {ClusterId}, its heartbeat every {HeartbeatSeconds} s.")]
        public static partial void Joined(ILogger logger, string node, string clusterId, double heartbeatSeconds);

        [LoggerMessage(EventIds.ClusterUnavailable, LogLevel.Warning, "Redis does not answer the cluster's calls; this node serves on alone and tries again every heartbeat: {Error}")]
        public static partial void Unavailable(ILogger logger, string error);

        [LoggerMessage(EventIds.ClusterAvailable, LogLevel.Information, "Redis answers the cluster's calls again.")]
        public static partial void Available(ILogger logger);

        [LoggerMessage(EventIds.ClusterReloadApplying, LogLevel.Information, "Cluster reload {Sequence} from node {Origin}: reloading.")]
        public static partial void Applying(ILogger logger, long sequence, string origin);

        [LoggerMessage(EventIds.ClusterMessageUnsigned, LogLevel.Warning, "Ignored a cluster {Kind} not signed with this cluster's secret: something else writes to the cluster's Redis keys ({LeftOut} more left out of the log).")]
        public static partial void Unsigned(ILogger logger, string kind, long leftOut);

        [LoggerMessage(EventIds.ClusterLoopFailed, LogLevel.Error, "The cluster heartbeat failed; it carries on at the next one.")]
        public static partial void LoopFailed(ILogger logger, Exception exception);
    }
}

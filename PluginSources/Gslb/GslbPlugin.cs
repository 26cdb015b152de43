using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Gslb;

/// <summary>
/// Global server load balancing: sends a request to one of several pools (clusters, say one per region) by the
/// client's region, from a trusted request field or a table of client networks, trying the region's pools in order
/// and skipping a pool none of whose destinations is healthy by YARP's active and passive health checks. A pool that
/// fails over is used again as soon as its health checks see it healthy. <c>vars["pool"]</c> and <c>vars["region"]</c>
/// say where the request went and why.
/// </summary>
/// <remarks>
/// With every pool of the order down, the region's first pool takes the request and its cluster's
/// <c>HealthCheck:AvailableDestinationsPolicy</c> decides: YARP's default (<c>HealthyOrPanic</c>) tries its
/// destinations anyway, <c>HealthyAndUnknown</c> has the gateway answer 503.
/// </remarks>
[NonBlocking]
public sealed partial class GslbPlugin : IGatewayFilter, IReportsCounters
{
    private const string AnyRegion = "*";
    private static readonly ValueTask<bool> Pass = new(true);

    private readonly string? _regionHeader;
    private readonly RegionNetworks? _networks;
    private readonly string[] _poolNames;
    private readonly string[] _clusters;
    private readonly FrozenDictionary<string, int[]> _orders;
    private readonly int[] _anyOrder;
    private readonly long[] _served;
    private readonly int[] _unknownWarned;
    private readonly ILogger _logger;
    private long _failovers;
    private long _unavailable;

    public GslbPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<GslbOptions>();
        if (options.Pools is not { Count: > 0 } pools)
        {
            throw new PluginConfigurationException("$.pools", "no pool: give each pool's cluster, such as { \"eu\": \"api-eu\", \"us\": \"api-us\" }");
        }
        _poolNames = [.. pools.Keys];
        _clusters = [.. pools.Values];
        for (var i = 0; i < _clusters.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(_clusters[i]))
            {
                throw new PluginConfigurationException($"$.pools.{_poolNames[i]}", "names no cluster");
            }
        }
        var poolIndex = _poolNames.Select((name, index) => (name, index)).ToDictionary(pool => pool.name, pool => pool.index, StringComparer.OrdinalIgnoreCase);
        var orders = new Dictionary<string, int[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (region, order) in options.Order ?? [])
        {
            if (order is not { Length: > 0 })
            {
                throw new PluginConfigurationException($"$.order.{region}", "lists no pool");
            }
            orders[region] = [.. order.Select((pool, i) => poolIndex.TryGetValue(pool, out var index)
                ? index
                : throw new PluginConfigurationException($"$.order.{region}[{i}]", $"'{pool}' is not one of the pools ({string.Join(", ", _poolNames)})"))];
        }
        _anyOrder = orders.Remove(AnyRegion, out var any) ? any : [.. Enumerable.Range(0, _poolNames.Length)];
        _orders = orders.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        if (options.Networks is { Count: > 0 } networks)
        {
            foreach (var (range, region) in networks)
            {
                if (!_orders.ContainsKey(region))
                {
                    throw new PluginConfigurationException($"$.networks['{range}']", $"region '{region}' has no order: add \"{region}\": [...] to \"order\"");
                }
            }
            _networks = RegionNetworks.Parse(networks, "$.networks");
        }
        _regionHeader = string.IsNullOrWhiteSpace(options.RegionHeader) ? null : options.RegionHeader;
        _served = new long[_poolNames.Length];
        _unknownWarned = new int[_poolNames.Length];
        _logger = setup.Logger;
    }

    public IReadOnlyDictionary<string, long> Counters
    {
        get
        {
            var counters = new Dictionary<string, long>(_poolNames.Length + 2, StringComparer.Ordinal)
            {
                ["failovers"] = Interlocked.Read(ref _failovers),
                ["unavailable"] = Interlocked.Read(ref _unavailable),
            };
            for (var i = 0; i < _poolNames.Length; i++)
            {
                counters["pool:" + _poolNames[i]] = Interlocked.Read(ref _served[i]);
            }
            return counters;
        }
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (region, order) = OrderFor(context.HttpContext);
        context.Vars["region"] = region;
        for (var i = 0; i < order.Length; i++)
        {
            if (TryPool(context, order[i]))
            {
                Interlocked.Increment(ref _served[order[i]]);
                if (i > 0)
                {
                    Interlocked.Increment(ref _failovers);
                }
                context.Vars["pool"] = _poolNames[order[i]];
                return Pass;
            }
        }
        Interlocked.Increment(ref _unavailable);
        context.ChooseCluster(_clusters[order[0]]);
        context.Vars["pool"] = _poolNames[order[0]];
        return Pass;
    }

    public void OnResponse(PluginContext context)
    {
    }

    /// <summary>The client's region (<c>*</c> when neither the field nor the networks place it) and its pools in order.</summary>
    internal (string Region, int[] Order) OrderFor(HttpContext http)
    {
        if (_regionHeader is not null && http.Request.Headers[_regionHeader] is { Count: > 0 } values
            && values[0] is { } named && _orders.TryGetValue(named.Trim(), out var byHeader))
        {
            return (named.Trim(), byHeader);
        }
        if (_networks is not null && http.Connection.RemoteIpAddress is { } address
            && _networks.RegionOf(address) is { } region && _orders.TryGetValue(region, out var byNetwork))
        {
            return (region, byNetwork);
        }
        return (AnyRegion, _anyOrder);
    }

    /// <summary>The pool's names, by index, for the tests.</summary>
    internal IReadOnlyList<string> PoolNames => _poolNames;

    // The route's own cluster needs no switch; another is chosen.
    private bool TryPool(PluginContext context, int pool)
    {
        var cluster = _clusters[pool];
        if (!string.Equals(context.ClusterId, cluster, StringComparison.OrdinalIgnoreCase) && !context.ChooseCluster(cluster))
        {
            if (Interlocked.Exchange(ref _unknownWarned[pool], 1) == 0)
            {
                Log.UnknownCluster(_logger, _poolNames[pool], cluster);
            }
            return false;
        }
        // YARP offers every destination of a cluster none of whose destinations is healthy (HealthyOrPanic): a pool
        // serves only if one of them is not counted down.
        var candidates = context.Destinations;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!context.IsUnhealthy(candidates[i]))
            {
                return true;
            }
        }
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Pool {Pool} names cluster '{Cluster}', which ReverseProxy:Clusters does not define; the pool is skipped.")]
        public static partial void UnknownCluster(ILogger logger, string pool, string cluster);
    }
}

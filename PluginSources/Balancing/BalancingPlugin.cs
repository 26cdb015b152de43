using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Plugins.Balancing;

/// <summary>
/// Load-balancing policies YARP lacks, per cluster: smooth weighted round robin, consistent hashing, peak EWMA. Runs
/// on the request's candidates, i.e. the cluster's healthy destinations (YARP's active and passive health checks
/// decide those) as narrowed by earlier stages, and pins the one it picks; YARP's own policy then has one choice.
/// </summary>
[NonBlocking]
public sealed class BalancingPlugin : IGatewayFilter
{
    private readonly Dictionary<string, IBalancingPolicy> _policies;
    private readonly TimeProvider _time;

    public BalancingPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<BalancingOptions>();
        _time = setup.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        if (options.Clusters.Count == 0)
        {
            throw new PluginConfigurationException("$.clusters", "name at least one cluster and its policy");
        }
        _policies = options.Clusters.ToDictionary(
            pair => pair.Key,
            pair => Create(pair.Value, $"$.clusters.{pair.Key}", _time),
            StringComparer.OrdinalIgnoreCase);
    }

    private static IBalancingPolicy Create(PolicyOptions options, string path, TimeProvider time)
    {
        void Only(bool allowed, object? value, string field)
        {
            if (!allowed && value is not null)
            {
                throw new PluginConfigurationException($"{path}.{field}", $"does not apply to policy '{options.Policy}'");
            }
        }
        var policy = options.Policy;
        Only(policy == "weighted-round-robin", options.WeightMetadata, "weightMetadata");
        Only(policy == "consistent-hash", options.HashOn, "hashOn");
        Only(policy == "consistent-hash", options.VirtualNodes, "virtualNodes");
        Only(policy == "peak-ewma", options.DecaySeconds, "decaySeconds");
        switch (policy)
        {
            case "weighted-round-robin":
                return new SmoothWeightedRoundRobin(options.WeightMetadata ?? "weight");
            case "consistent-hash":
                var hashOn = options.HashOn ?? throw new PluginConfigurationException(path + ".hashOn", "say what to hash: header, cookie, query, var or clientIp");
                var sources = new object?[] { hashOn.Header, hashOn.Cookie, hashOn.Query, hashOn.Var, hashOn.ClientIp is true ? true : null }.Count(x => x is not null);
                if (sources != 1)
                {
                    throw new PluginConfigurationException(path + ".hashOn", "give exactly one of header, cookie, query, var or clientIp: true");
                }
                if (options.VirtualNodes is < 1 or > 10_000)
                {
                    throw new PluginConfigurationException(path + ".virtualNodes", "must be 1 to 10000");
                }
                return new ConsistentHash(hashOn, options.VirtualNodes ?? 160);
            case "peak-ewma":
                if (options.DecaySeconds is <= 0 or > 3600)
                {
                    throw new PluginConfigurationException(path + ".decaySeconds", "must be more than 0 and at most 3600");
                }
                return new PeakEwma(TimeSpan.FromSeconds(options.DecaySeconds ?? 10), time);
            default:
                throw new PluginConfigurationException(path + ".policy", $"'{policy}' is not a policy; use weighted-round-robin, consistent-hash or peak-ewma");
        }
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_policies.TryGetValue(context.ClusterId, out var policy))
        {
            return new ValueTask<bool>(true);
        }
        var candidates = context.Destinations;
        if (candidates.Count == 0)
        {
            return new ValueTask<bool>(true);
        }
        var chosen = candidates[policy.Pick(context, candidates)].Id;
        context.ChooseDestination(chosen);
        if (policy.TracksCompletion)
        {
            // Told when the response is done whatever happens to the request, so an outstanding count never leaks.
            context.HttpContext.Response.OnCompleted(Outstanding.CompleteAsync, new Outstanding(policy, chosen, _time.GetTimestamp()));
        }
        return new ValueTask<bool>(true);
    }

    public void OnResponse(PluginContext context)
    {
        // Nothing on the way back: a latency-aware policy is told when the response completes (above).
    }

    private sealed class Outstanding(IBalancingPolicy policy, string destinationId, long start)
    {
        public static readonly Func<object, Task> CompleteAsync = static state => ((Outstanding)state).Complete();

        private Task Complete()
        {
            policy.Completed(destinationId, start);
            return Task.CompletedTask;
        }
    }
}

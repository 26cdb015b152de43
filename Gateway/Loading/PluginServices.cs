using System.Collections.Frozen;
using Gateway.Plugins;
using Microsoft.Extensions.Caching.Distributed;

namespace Gateway.Loading;

/// <summary>
/// What <c>PluginSetup.Services</c> resolves: the documented services plugins share, and nothing else of the host's
/// container, so a plugin cannot reach the pipeline, the admin key or YARP's state, and what it may depend on is a
/// contract the gateway can keep.
/// </summary>
internal sealed class PluginServices(IServiceProvider host) : IServiceProvider, ISupportRequiredService
{
    /// <summary>The services a plugin may resolve, as documented on <c>PluginSetup.Services</c>.</summary>
    private static readonly Type[] Shared =
    [
        typeof(IDistributedCache), typeof(TimeProvider), typeof(IHttpClientFactory), typeof(ILoggerFactory), typeof(IProblemDetailsService),
        typeof(ISharedScripts),
    ];

    private static readonly FrozenSet<Type> Resolvable = Shared.ToFrozenSet();

    public object? GetService(Type serviceType) => Resolvable.Contains(serviceType) ? host.GetService(serviceType) : null;

    public object GetRequiredService(Type serviceType) =>
        GetService(serviceType) ?? throw new InvalidOperationException(
            $"Plugins can resolve {string.Join(", ", Shared.Select(type => type.Name))}; not {serviceType.FullName}.");
}

using Gateway.AccessLog;
using Gateway.Protection;
using Gateway.Tls;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.ProxyConfig;

/// <summary>
/// Reads the <c>ReverseProxy</c> section of a reload's configuration into YARP's routes and clusters, with YARP's own
/// parser, and checks them with the validator YARP itself applies, so a configuration YARP would refuse is refused by
/// the reload, with every error at once, before anything serves it.
/// </summary>
internal sealed class ProxyConfigReader(IConfigValidator validator)
{
    public const string SectionName = "ReverseProxy";

    /// <param name="configuration">The reload's configuration.</param>
    /// <param name="activityTimeout">How long an upstream may stay silent, for clusters that do not say.</param>
    /// <param name="errors">What is wrong is added here.</param>
    /// <returns>The routes and clusters, or null when they cannot serve.</returns>
    public async Task<ProxyRoutes?> ReadAsync(IConfiguration configuration, TimeSpan activityTimeout, List<ProxyConfigError> errors)
    {
        IProxyConfig parsed;
        try
        {
            // YARP's configuration parser is internal; a container of its own holding just that provider reaches it.
            using var parser = new ServiceCollection().AddLogging().AddReverseProxy().LoadFromConfig(configuration.GetSection(SectionName)).Services.BuildServiceProvider();
            parsed = parser.GetRequiredService<IProxyConfigProvider>().GetConfig();
        }
        catch (Exception ex)
        {
            errors.Add(new ProxyConfigError(SectionName, SectionName, Describe(ex)));
            return null;
        }

        var count = errors.Count;
        foreach (var cluster in parsed.Clusters)
        {
            foreach (var problem in await validator.ValidateClusterAsync(cluster).ConfigureAwait(false))
            {
                errors.Add(new ProxyConfigError($"cluster '{cluster.ClusterId}'", $"{SectionName}:Clusters:{cluster.ClusterId}", problem.Message));
            }
            foreach (var (key, problem) in OriginTrust.Validate(cluster))
            {
                errors.Add(new ProxyConfigError($"cluster '{cluster.ClusterId}'", $"{SectionName}:Clusters:{cluster.ClusterId}:Metadata:{key}", problem));
            }
        }
        foreach (var route in parsed.Routes)
        {
            foreach (var problem in await validator.ValidateRouteAsync(route).ConfigureAwait(false))
            {
                errors.Add(new ProxyConfigError($"route '{route.RouteId}'", $"{SectionName}:Routes:{route.RouteId}", problem.Message));
            }
            if (RouteBodySizeLimit.Validate(route) is { } bodyLimitProblem)
            {
                errors.Add(new ProxyConfigError($"route '{route.RouteId}'", $"{SectionName}:Routes:{route.RouteId}:Metadata:{RouteBodySizeLimit.MetadataKey}", bodyLimitProblem));
            }
            if (RouteAccessLog.Validate(route) is { } accessLogProblem)
            {
                errors.Add(new ProxyConfigError($"route '{route.RouteId}'", $"{SectionName}:Routes:{route.RouteId}:Metadata:{RouteAccessLog.MetadataKey}", accessLogProblem));
            }
            foreach (var (key, problem) in RouteHttps.Validate(route))
            {
                errors.Add(new ProxyConfigError($"route '{route.RouteId}'", $"{SectionName}:Routes:{route.RouteId}:Metadata:{key}", problem));
            }
        }
        if (parsed.Routes.Count == 0)
        {
            errors.Add(new ProxyConfigError(SectionName, $"{SectionName}:Routes",
                "no route is defined, so every request would get 404: is the configuration file missing or being replaced?"));
        }
        if (errors.Count > count)
        {
            return null;
        }
        var clusters = parsed.Clusters
            .Select(cluster => cluster.HttpRequest?.ActivityTimeout is null
                ? cluster with { HttpRequest = (cluster.HttpRequest ?? new()) with { ActivityTimeout = activityTimeout } }
                : cluster)
            .ToArray();
        return new ProxyRoutes(parsed.Routes, clusters);
    }

    private static string Describe(Exception exception)
    {
        var messages = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            messages.Add(current.Message);
        }
        return string.Join(": ", messages.Distinct());
    }
}

using Yarp.ReverseProxy.Configuration;

namespace Gateway.ProxyConfig;

/// <summary>The routes and clusters a reload validated, as YARP takes them.</summary>
internal sealed record ProxyRoutes(IReadOnlyList<RouteConfig> Routes, IReadOnlyList<ClusterConfig> Clusters);

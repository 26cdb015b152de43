using Yarp.ReverseProxy;

namespace Gateway.Pipeline;

/// <summary>What every request the pipeline runs shares with the runner that started it.</summary>
/// <param name="Forward">The rest of YARP's proxy pipeline: affinity, load balancing, the forwarder.</param>
/// <param name="Clusters">The clusters a stage may send a request to instead of its route's.</param>
/// <param name="Detached">Where stages start detached copies of their request.</param>
internal sealed record PipelineEnvironment(RequestDelegate Forward, IProxyStateLookup Clusters, DetachedRequests Detached);

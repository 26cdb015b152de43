using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins;

/// <summary>One proxied request as the pipeline's stages see it.</summary>
public abstract class PluginContext
{
    /// <summary>The ASP.NET Core context of the request; its request goes upstream, its response to the client.</summary>
    public abstract HttpContext HttpContext { get; }

    /// <summary>The id of the matched route, from the <c>ReverseProxy:Routes</c> configuration.</summary>
    public abstract string RouteId { get; }

    /// <summary>The id of the matched route's cluster.</summary>
    public abstract string ClusterId { get; }

    /// <summary>
    /// Values shared by all stages of this request, C# plugins and scripts alike (keys are case-sensitive).
    /// Scripts see strings, numbers and booleans; other values reach them as their <c>ToString()</c>.
    /// </summary>
    public abstract IDictionary<string, object?> Vars { get; }

    /// <summary>
    /// The destinations the request may still go to: the matched cluster's healthy destinations, narrowed by
    /// earlier stages. Session affinity and the cluster's load-balancing policy pick among these after the pipeline.
    /// </summary>
    public abstract IReadOnlyList<UpstreamDestination> Destinations { get; }

    /// <summary>Keeps only the destinations for which <paramref name="keep"/> is true.</summary>
    /// <param name="keep">The filter; called once per current destination.</param>
    /// <returns>How many destinations remain. With none left the gateway answers 503.</returns>
    public abstract int NarrowDestinations(Func<UpstreamDestination, bool> keep);

    /// <summary>Pins the request to one destination, if it is still a candidate.</summary>
    /// <param name="destinationId">The destination's id in the cluster configuration (case-insensitive).</param>
    /// <returns>False, leaving the candidates unchanged, when no current candidate has that id.</returns>
    public abstract bool ChooseDestination(string destinationId);

    /// <summary>
    /// Sends the request to another cluster of the <c>ReverseProxy:Clusters</c> configuration instead of the route's:
    /// that cluster's healthy destinations become the candidates, and its load-balancing policy and HTTP client apply.
    /// </summary>
    /// <param name="clusterId">The cluster's id.</param>
    /// <returns>False, changing nothing, when no cluster has that id.</returns>
    public abstract bool ChooseCluster(string clusterId);

    /// <summary>
    /// Gives the body of an answer this stage makes instead of the upstream: set the status and headers on
    /// <see cref="HttpContext"/>'s response and call this instead of <c>next</c>, or after <c>next</c> to replace the
    /// upstream's answer (its body is then discarded). The gateway writes it, with its <c>Content-Length</c>, once
    /// every stage has returned, so stages before this one can still change the status and headers, as they can for an
    /// upstream's answer. Nothing is written for a <c>HEAD</c> request or a status without a body.
    /// </summary>
    /// <param name="body">The body; it must stay unchanged until the request ends.</param>
    public abstract void DeferResponseBody(ReadOnlyMemory<byte> body);
}

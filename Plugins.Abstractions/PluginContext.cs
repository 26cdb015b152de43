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

    /// <summary>
    /// Whether no upstream answered: no destination was available, or connecting, sending the request or waiting for
    /// the response's headers failed or timed out, so the response is the gateway's own <c>502</c>, <c>503</c> or
    /// <c>504</c>. Read it after <c>next</c>; an error status the upstream itself sent leaves it false.
    /// </summary>
    /// <remarks>Added in 1.1.0.</remarks>
    public virtual bool UpstreamFailed => false;

    /// <summary>
    /// Whether the cluster's health checks (YARP's active or passive ones) count <paramref name="destination"/> as
    /// unhealthy now. <see cref="Destinations"/> leaves such destinations out, except when every destination of the
    /// cluster is unhealthy: YARP's default policy (<c>HealthyOrPanic</c>) then offers them all rather than none, and
    /// this tells a stage that could go elsewhere (another cluster, say) that they are all down.
    /// </summary>
    /// <param name="destination">One of <see cref="Destinations"/>.</param>
    /// <remarks>Added in 1.2.0.</remarks>
    public virtual bool IsUnhealthy(UpstreamDestination destination) => false;

    /// <summary>
    /// Starts a copy of this request detached from the client, for work such as refreshing a cached response after the
    /// client has been answered. The copy has this request's method, URL and headers as they are now, no body, this
    /// request's <see cref="Vars"/>, route, cluster and candidate destinations. <paramref name="work"/> runs on the
    /// thread pool with the copy; calling the <c>next</c> this stage was given with the copy sends it through the
    /// stages after this one and to the upstream. The copy's response goes to no client: its body is read and discarded
    /// unless <paramref name="work"/> replaces <c>Response.Body</c>, and its <c>OnStarting</c> and <c>OnCompleted</c>
    /// callbacks run once the upstream's body has been read. The copy's <c>RequestAborted</c> fires when the gateway
    /// stops or the copy runs past the gateway's background-request timeout; an exception from
    /// <paramref name="work"/> is logged.
    /// </summary>
    /// <param name="work">What to do with the copy; it must not use this request's context.</param>
    /// <returns>
    /// False, starting nothing, when the request may have a body or the gateway already runs as many detached
    /// requests as it allows; the stage should then do the work with this request.
    /// </returns>
    /// <remarks>Added in 1.1.0. Only a plugin (<see cref="IGatewayPlugin"/>) has a <c>next</c> to send the copy on with.</remarks>
    public virtual bool TryStartDetachedRequest(Func<PluginContext, ValueTask> work) => false;

    /// <summary>
    /// After <c>next</c>, drops what came back, the upstream's answer (its body unread) or the gateway's own error for
    /// one that failed, so that <c>next</c> may be called again: a retry. The response's status and headers are cleared,
    /// and the destination that answered or failed leaves the candidates when others remain, so the next attempt goes
    /// elsewhere. A request body is sent again only if the caller buffered it (<c>Request.EnableBuffering()</c>) and
    /// rewinds it. Once it returns true, call <c>next</c> again or answer in the upstream's place: the discarded answer
    /// is gone.
    /// </summary>
    /// <returns>False, changing nothing, when <c>next</c> has not run, or some of the answer has gone to the client.</returns>
    /// <remarks>Added in 1.1.0, for plugins (<see cref="IGatewayPlugin"/>).</remarks>
    public virtual ValueTask<bool> TryDiscardUpstreamResponseAsync() => new(false);

    /// <summary>
    /// Puts a stream of the stage's own in front of the response body, for a stage that rewrites the body as it goes
    /// (compression): <paramref name="wrap"/> gets the stream the body is written to now and returns the one it is to
    /// be written to. Streams put there later (by inner stages, or in response steps) see the body first, so a stage
    /// that means to rewrite what the inner stages pass on wraps in its request step. The body is written once every
    /// stage is done with the headers (a body a stage answered with gets its <c>Content-Length</c> then), so the
    /// stream decides at its first write, when the headers are final, and sets the fields that describe the new body
    /// (drops <c>Content-Length</c>, sets <c>Content-Encoding</c>). The gateway disposes it once the whole body has gone
    /// through, before the response completes, so it can write what it still holds. A request that fails in a stage
    /// drops the wrappers unflushed and gets the gateway's plain 500.
    /// </summary>
    /// <returns>False, wrapping nothing, once the response has started.</returns>
    /// <remarks>Added in 1.1.0.</remarks>
    public virtual bool TryWrapResponseBody(Func<Stream, Stream> wrap) => false;
}

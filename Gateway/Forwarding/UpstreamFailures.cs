using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>Tells the forwarder's own error answers apart by whose failure they report.</summary>
internal static class UpstreamFailures
{
    /// <summary>
    /// Whether YARP answered because no upstream did: no destination, a connection or request that failed, a response
    /// that never came (or came unusable), a timeout. A client that went away or sent a bad body is not the upstream's
    /// failure, nor is an error status the upstream sent.
    /// </summary>
    public static bool NoUpstreamAnswered(HttpContext context) => context.Features.Get<IForwarderErrorFeature>()?.Error switch
    {
        ForwarderError.NoAvailableDestinations or ForwarderError.Request or ForwarderError.RequestTimedOut
            or ForwarderError.RequestBodyDestination or ForwarderError.ResponseHeaders => true,
        // The route's own timeout cancels the request, which YARP reports as a cancellation.
        ForwarderError.RequestCanceled => RouteTimedOut(context),
        _ => false,
    };

    /// <summary>Whether the route's <c>Timeout</c> or <c>TimeoutPolicy</c> canceled the request.</summary>
    public static bool RouteTimedOut(HttpContext context) =>
        context.Features.Get<IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true };
}

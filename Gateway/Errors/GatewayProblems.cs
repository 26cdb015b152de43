using Gateway.Forwarding;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Errors;

/// <summary>
/// Writes the errors the gateway itself makes as <c>application/problem+json</c> (RFC 9457), with the request's
/// <c>traceId</c> (<see cref="RequestTrace"/>); nothing internal (stage names, paths, stack traces) goes to the client.
/// </summary>
internal sealed class GatewayProblems(IProblemDetailsService problems)
{
    /// <summary>
    /// Every problem the host writes, the gateway's and ASP.NET Core's (an unhandled exception's), names the request by its
    /// trace id rather than the service's default (the full activity id, which no tracing backend searches by).
    /// </summary>
    public static void AddTraceId(ProblemDetailsContext context) =>
        context.ProblemDetails.Extensions["traceId"] = RequestTrace.IdOf(context.HttpContext);

    public ValueTask WriteAsync(HttpContext context, int status, string title, string? detail = null)
    {
        context.Response.StatusCode = status;
        if (context.RequestAborted.IsCancellationRequested && !UpstreamFailures.RouteTimedOut(context))
        {
            // The client has gone (it canceled, or its connection closed): the status is for the log, a body for nobody.
            return default;
        }
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>A stage threw: the request fails, the gateway does not.</summary>
    public ValueTask WriteStageFailedAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status500InternalServerError, "The gateway failed to process the request.",
            "A pipeline stage failed. The gateway's log has the details under this trace id.");

    /// <summary>
    /// YARP set an error status without a body (no destination, upstream unreachable, timeout...), or an upstream
    /// error's body was hidden (<see cref="HiddenUpstreamError"/>).
    /// </summary>
    public ValueTask WriteForwarderErrorIfAnyAsync(HttpContext context)
    {
        if (context.Response.HasStarted)
        {
            return default;
        }
        if (context.Features.Get<IForwarderErrorFeature>() is not { } error)
        {
            return context.Features.Get<HiddenUpstreamError>() is null
                ? default
                : WriteAsync(context, context.Response.StatusCode, "The upstream failed to process the request.");
        }
        if (UpstreamFailures.RouteTimedOut(context))
        {
            // The route's timeout canceled the request; YARP reports a cancellation, the client is owed a 504.
            return WriteAsync(context, StatusCodes.Status504GatewayTimeout, "The upstream did not answer within the route's timeout.");
        }
        var status = context.Response.StatusCode;
        var title = (error.Error, status) switch
        {
            (ForwarderError.NoAvailableDestinations, _) => "No upstream destination is available.",
            (ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled, _) => "The request was canceled.",
            (ForwarderError.RequestBodyClient, StatusCodes.Status413PayloadTooLarge) => "The request body is too large.",
            (ForwarderError.RequestBodyClient, StatusCodes.Status408RequestTimeout) => "The request body did not arrive in time.",
            (ForwarderError.RequestBodyClient, _) => "The request body could not be read.",
            (_, StatusCodes.Status504GatewayTimeout) => "The upstream did not answer in time.",
            (_, StatusCodes.Status502BadGateway) => "The upstream could not be reached.",
            _ => ReasonPhrases.GetReasonPhrase(status),
        };
        return WriteAsync(context, status, title);
    }
}

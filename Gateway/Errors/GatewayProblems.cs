using Microsoft.AspNetCore.Mvc;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Errors;

/// <summary>
/// Writes the errors the gateway itself makes as <c>application/problem+json</c> (RFC 9457). The problem details
/// service adds the <c>traceId</c>; nothing internal (stage names, paths, stack traces) goes to the client.
/// </summary>
internal sealed class GatewayProblems(IProblemDetailsService problems)
{
    public ValueTask WriteAsync(HttpContext context, int status, string title, string? detail = null)
    {
        context.Response.StatusCode = status;
        if (context.RequestAborted.IsCancellationRequested)
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

    /// <summary>YARP set an error status without a body (no destination, upstream unreachable, timeout...).</summary>
    public ValueTask WriteForwarderErrorIfAnyAsync(HttpContext context)
    {
        if (context.Response.HasStarted || context.Features.Get<IForwarderErrorFeature>() is not { } error)
        {
            return default;
        }
        var title = error.Error switch
        {
            ForwarderError.NoAvailableDestinations => "No upstream destination is available.",
            ForwarderError.RequestTimedOut or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled => "The upstream did not answer in time.",
            ForwarderError.RequestCanceled => "The request was canceled.",
            _ => "The upstream could not be reached.",
        };
        return WriteAsync(context, context.Response.StatusCode, title);
    }
}

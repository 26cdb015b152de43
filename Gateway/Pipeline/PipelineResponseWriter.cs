using System.IO.Pipelines;
using Gateway.Errors;

namespace Gateway.Pipeline;

/// <summary>
/// What the client gets once a request's stages and the upstream are done: a 500 for a stage's fault (logged, at most
/// ten lines a minute per stage), the body a stage answered with, or the problem for YARP's own error.
/// </summary>
internal sealed partial class PipelineResponseWriter(GatewayProblems problems, TimeProvider time, ILogger<PipelineResponseWriter> logger)
{
    // A stage that fails every request (a script that throws on some input) must not turn traffic into log volume.
    private readonly LogThrottle _failures = new(time, linesPerWindow: 10, TimeSpan.FromMinutes(1));

    public ValueTask WriteForwarderErrorIfAnyAsync(HttpContext context) => problems.WriteForwarderErrorIfAnyAsync(context);

    public ValueTask WriteRouteOutOfDateAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        return problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
            "The gateway's configuration changed while this request was being routed; retry it.");
    }

    /// <summary>Logs the request's fault against the stage it started in, and drops what the response held so far.</summary>
    public void ReportFault(ProxyRequestContext request)
    {
        var context = request.HttpContext;
        var fault = request.Fault!;
        var traceId = RequestTrace.IdOf(context);
        fault.Stage?.Counters.RecordLastError(fault.Exception.Message);
        var stage = fault.Stage?.Entry.DisplayName ?? "the pipeline";
        if (_failures.ShouldLog(stage, out var leftOut))
        {
            if (leftOut == 0)
            {
                Log.StageFailed(logger, stage, request.RouteId, traceId, fault.Exception);
            }
            else
            {
                Log.StageFailedAgain(logger, stage, request.RouteId, traceId, leftOut, fault.Exception);
            }
        }
        if (!context.Response.HasStarted)
        {
            // Whatever the upstream or the stages put in the response so far is not what the client gets.
            request.DropBodyWrappers();
            context.Response.Clear();
        }
    }

    public async ValueTask FinishAsync(ProxyRequestContext request)
    {
        var context = request.HttpContext;
        if (request.Fault is not null)
        {
            if (!context.Response.HasStarted)
            {
                await problems.WriteStageFailedAsync(context).ConfigureAwait(false);
            }
        }
        else if (request.DeferredBody is { } body)
        {
            await WriteDeferredBodyAsync(context, body).ConfigureAwait(false);
        }
        else
        {
            await problems.WriteForwarderErrorIfAnyAsync(context).ConfigureAwait(false);
        }
        await request.CompleteBodyWrappersAsync().ConfigureAwait(false);
    }

    private static ValueTask<FlushResult> WriteDeferredBodyAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        var bodiless = response.StatusCode is 204 or 304 || response.StatusCode < 200;
        if (!response.HasStarted)
        {
            response.ContentLength = bodiless ? null : body.Length;
        }
        // A HEAD answer carries the length of the body it stands for, not the body.
        if (bodiless || HttpMethods.IsHead(context.Request.Method))
        {
            return default;
        }
        return response.BodyWriter.WriteAsync(body, context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.StageFailed, LogLevel.Error, "{Stage} failed on route {Route} (trace {TraceId}); the request gets a 500.")]
        public static partial void StageFailed(ILogger logger, string stage, string route, string traceId, Exception exception);

        [LoggerMessage(EventIds.StageFailed, LogLevel.Error, "{Stage} failed on route {Route} (trace {TraceId}); the request gets a 500. {LeftOut} more of its failures were not logged since its last line (at most ten are a minute).")]
        public static partial void StageFailedAgain(ILogger logger, string stage, string route, string traceId, long leftOut, Exception exception);
    }
}

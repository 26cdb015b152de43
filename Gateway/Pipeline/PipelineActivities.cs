using System.Diagnostics;

namespace Gateway.Pipeline;

/// <summary>
/// The pipeline's spans, on the activity source named <c>Gateway</c>: one per entry a request passes through (for a
/// filter, one per step). Starting one costs a listener check while nobody traces.
/// </summary>
internal static class PipelineActivities
{
    public const string SourceName = "Gateway";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts a span under the current one, current until <see cref="Leave"/>: the caller leaves it once the entry's
    /// call has returned, so that the entry's code (and what it awaits) runs under the span and the runner after it
    /// does not, whether the call completed or is still pending.
    /// </summary>
    public static Activity? Start(string name, object index, string entry)
    {
        // Under a span that is not recorded (a request the sampler left out) an entry's span would be made only to carry
        // the context on, which the request's own span already does: skip it rather than pay an activity per step.
        if (!Source.HasListeners() || Activity.Current is { Recorded: false })
        {
            return null;
        }
        var span = Source.StartActivity(name);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("gateway.entry.index", index);
            span.SetTag("gateway.entry", entry);
        }
        return span;
    }

    /// <summary>Puts back the span that was current before <paramref name="span"/> started.</summary>
    public static void Leave(Activity span) => Activity.Current = span.Parent;

    /// <summary>Ends <paramref name="span"/>, marked failed when <paramref name="exception"/> is set.</summary>
    public static void Stop(Activity span, Exception? exception)
    {
        if (exception is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, exception.Message);
            span.AddException(exception);
        }
        span.Stop();
    }
}

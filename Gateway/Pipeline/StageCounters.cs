using System.Diagnostics;

namespace Gateway.Pipeline;

/// <summary>Calls, errors and time spent of one stage; updated lock-free by concurrent requests.</summary>
/// <remarks>
/// Reading the clock twice per stage would cost more than a no-op stage itself, so time is measured on a sample of
/// requests (<see cref="ProxyRequestContext.IsTimed"/>) and extrapolated to all calls; calls and errors are exact.
/// </remarks>
internal sealed class StageCounters
{
    private long _calls;
    private long _errors;
    private long _timedCalls;
    private long _timedTicks;
    private string? _lastError;

    public long Calls => Interlocked.Read(ref _calls);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>What the last failure said, for an operator whose log keeps only some of them.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>Time spent in the stage itself, not in the stages after it or the upstream; extrapolated from the sample.</summary>
    public TimeSpan TimeSpent
    {
        get
        {
            var timedCalls = Interlocked.Read(ref _timedCalls);
            return timedCalls == 0
                ? TimeSpan.Zero
                : Stopwatch.GetElapsedTime(0, (long)((double)Interlocked.Read(ref _timedTicks) * Calls / timedCalls));
        }
    }

    public void Record(bool failed)
    {
        Interlocked.Increment(ref _calls);
        if (failed)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    public void RecordLastError(string message) => Volatile.Write(ref _lastError, message);

    /// <summary>An error in a call already counted: a filter's response step.</summary>
    public void RecordError() => Interlocked.Increment(ref _errors);

    public void RecordTime(long ticks)
    {
        Interlocked.Increment(ref _timedCalls);
        Interlocked.Add(ref _timedTicks, ticks);
    }

    /// <summary>More time for a timed call already counted: a filter's response step.</summary>
    public void AddTime(long ticks) => Interlocked.Add(ref _timedTicks, ticks);
}

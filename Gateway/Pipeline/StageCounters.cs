using System.Diagnostics;

namespace Gateway.Pipeline;

/// <summary>Calls, errors and time spent of one stage; updated lock-free by concurrent requests.</summary>
internal sealed class StageCounters
{
    private long _calls;
    private long _errors;
    private long _ticks;

    public long Calls => Interlocked.Read(ref _calls);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Time spent in the stage itself, not in the stages after it or the upstream.</summary>
    public TimeSpan TimeSpent => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

    public void Record(long ticks, bool failed)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _ticks, ticks);
        if (failed)
        {
            Interlocked.Increment(ref _errors);
        }
    }
}

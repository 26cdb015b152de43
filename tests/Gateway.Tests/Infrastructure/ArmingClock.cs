using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A fake clock that also tells when a timer has been armed for a given due time: the signal that work the gateway does
/// over real sockets or file events has reached the point where the next step of the clock will reach it. Moving the
/// clock before then would pass that timer by.
/// </summary>
internal sealed class ArmingClock : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TimeSpan, int> _armed = [];
    private readonly List<(TimeSpan DueTime, int Count, TaskCompletionSource Armed)> _waiters = [];

    /// <summary>How many times a timer has been armed for <paramref name="dueTime"/> so far.</summary>
    public int Armed(TimeSpan dueTime)
    {
        lock (_gate)
        {
            return _armed.GetValueOrDefault(dueTime);
        }
    }

    /// <summary>Completes once timers have been armed for <paramref name="dueTime"/> <paramref name="count"/> times in all.</summary>
    public Task ArmedAsync(TimeSpan dueTime, int count)
    {
        lock (_gate)
        {
            if (_armed.GetValueOrDefault(dueTime) >= count)
            {
                return Task.CompletedTask;
            }
            var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((dueTime, count, armed));
            return armed.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Watched(base.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan), this);
        timer.Change(dueTime, period);
        return timer;
    }

    private void OnArmed(TimeSpan dueTime)
    {
        lock (_gate)
        {
            var count = _armed[dueTime] = _armed.GetValueOrDefault(dueTime) + 1;
            _waiters.RemoveAll(waiter => waiter.DueTime == dueTime && waiter.Count <= count && waiter.Armed.TrySetResult());
        }
    }

    private sealed class Watched(ITimer timer, ArmingClock clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = timer.Change(dueTime, period);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                clock.OnArmed(dueTime);
            }
            return changed;
        }

        public void Dispose() => timer.Dispose();

        public ValueTask DisposeAsync() => timer.DisposeAsync();
    }
}

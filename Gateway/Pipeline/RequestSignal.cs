using System.Threading.Tasks.Sources;

namespace Gateway.Pipeline;

/// <summary>
/// A one-shot, resettable signal awaited by at most one party per request: the allocation-free stand-in for a
/// <see cref="TaskCompletionSource"/> in a reused request context. Continuations run inline on the setter's thread.
/// </summary>
internal sealed class RequestSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core;
    private int _set;

    public bool IsSet => Volatile.Read(ref _set) == 1;

    public ValueTask WaitAsync() => IsSet ? default : new ValueTask(this, _core.Version);

    public void Set()
    {
        if (Interlocked.Exchange(ref _set, 1) == 0)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Readies the signal for the next request; only when nobody awaits it.</summary>
    public void Reset()
    {
        _core.Reset();
        _set = 0;
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

using System.Diagnostics;
using Jint;

namespace Gateway.Scripting.Sandbox;

/// <summary>
/// The statements, time and memory one call may use, counted from <see cref="Start"/>. Jint resets its own constraints
/// on every entry into the engine, and a built-in that calls back in, or the promise jobs run after a hook returns,
/// would each get a fresh budget; these constraints ignore Jint's resets, so a hook and everything it queued share one.
/// </summary>
internal sealed class CallBounds
{
    private readonly int _maxStatements;
    private readonly long _timeoutTicks;
    private readonly TimeSpan _timeout;
    private readonly long _maxBytes;
    private int _statements;
    private long _deadline;
    private long _allocatedAtStart;

    public CallBounds(int maxStatements, TimeSpan timeout, long maxBytes)
    {
        _maxStatements = maxStatements;
        _timeout = timeout;
        _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _maxBytes = maxBytes;
        Statements = new StatementConstraint(this);
        Clock = new ClockConstraint(this);
        Start();
    }

    /// <summary>Counts statements; Jint checks it before every one.</summary>
    public Constraint Statements { get; }

    /// <summary>The time bound, and the memory bound as this call counts it; Jint checks it every few statements.</summary>
    public Constraint Clock { get; }

    /// <summary>Begins a call's budget.</summary>
    public void Start()
    {
        _statements = 0;
        _deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
        _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
    }

    /// <summary>
    /// Refuses a string a built-in is about to build when it would not fit in what the call has left of its memory
    /// bound, before a byte of it is allocated.
    /// </summary>
    /// <exception cref="ScriptBoundException">It would not fit.</exception>
    public void EnsureRoomForString(double length, string builtIn)
    {
        var left = _maxBytes - (GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart);
        if (length * sizeof(char) > left)
        {
            throw new ScriptBoundException($"exceeded its memory bound of {_maxBytes} bytes: {builtIn} would build a string of {length:0} characters");
        }
    }

    private void CheckStatements()
    {
        if (++_statements > _maxStatements)
        {
            throw new ScriptBoundException($"exceeded its bound of {_maxStatements} statements");
        }
    }

    private void CheckClock()
    {
        if (Stopwatch.GetTimestamp() > _deadline)
        {
            throw new ScriptBoundException($"exceeded its time bound of {_timeout.TotalMilliseconds} ms");
        }
        if (GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart > _maxBytes)
        {
            throw new ScriptBoundException($"exceeded its memory bound of {_maxBytes} bytes");
        }
    }

    // Jint resets constraints when it enters and leaves; a call's budget starts only at Start.
    private sealed class StatementConstraint(CallBounds bounds) : Constraint
    {
        public override void Check() => bounds.CheckStatements();

        public override void Reset()
        {
        }
    }

    private sealed class ClockConstraint(CallBounds bounds) : Constraint
    {
        public override bool IsAmortizable => true;

        public override void Check() => bounds.CheckClock();

        public override void Reset()
        {
        }
    }
}

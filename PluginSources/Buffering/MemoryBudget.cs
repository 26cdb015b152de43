namespace Gateway.Plugins.Buffering;

/// <summary>The bytes an entry may hold over all its requests at once.</summary>
internal sealed class MemoryBudget(long total)
{
    private long _held;

    public bool TryTake(int bytes)
    {
        if (Interlocked.Add(ref _held, bytes) <= total)
        {
            return true;
        }
        Interlocked.Add(ref _held, -bytes);
        return false;
    }

    public void Give(long bytes) => Interlocked.Add(ref _held, -bytes);
}

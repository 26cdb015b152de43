namespace Gateway.Plugins.Caching;

/// <summary>
/// What the cache did for each request it saw, counted once per request as the client got it: a request first
/// counted a miss and then answered stale (its upstream failed) is a stale one. Read from the status the request's
/// <see cref="CacheResponder.StatusVar"/> holds when the plugin returns.
/// </summary>
internal sealed class CacheOutcomes
{
    private long _hit;
    private long _miss;
    private long _stale;
    private long _revalidated;
    private long _bypass;

    public void Count(PluginContext context)
    {
        if (!context.Vars.TryGetValue(CacheResponder.StatusVar, out var status))
        {
            return;
        }
        switch (status as string)
        {
            case "HIT":
                Interlocked.Increment(ref _hit);
                break;
            case "MISS":
                Interlocked.Increment(ref _miss);
                break;
            case "STALE":
                Interlocked.Increment(ref _stale);
                break;
            case "REVALIDATED":
                Interlocked.Increment(ref _revalidated);
                break;
            case "BYPASS":
                Interlocked.Increment(ref _bypass);
                break;
        }
    }

    public IReadOnlyDictionary<string, long> Counters => new Dictionary<string, long>(StringComparer.Ordinal)
    {
        ["hit"] = Interlocked.Read(ref _hit),
        ["miss"] = Interlocked.Read(ref _miss),
        ["stale"] = Interlocked.Read(ref _stale),
        ["revalidated"] = Interlocked.Read(ref _revalidated),
        ["bypass"] = Interlocked.Read(ref _bypass),
    };
}

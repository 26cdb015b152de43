namespace Gateway;

/// <summary>
/// Keeps a warning that anyone can cause (a wrong admin key, a request that fails a stage) from flooding the log: per
/// source, the first few in a window are logged, the rest only counted, and the next line logged for that source says
/// how many were left out.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, int linesPerWindow, TimeSpan window)
{
    // Sources beyond this many share one count, so a caller varying its address cannot grow the table without bound.
    private const int MaxSources = 1024;
    private const string OtherSources = "(other sources)";

    private readonly Dictionary<string, Source> _sources = new(StringComparer.Ordinal);

    /// <summary>Whether to log this occurrence.</summary>
    /// <param name="source">Who caused it: an address, a stage.</param>
    /// <param name="leftOut">When logging: how many of this source's were left out since its last logged line.</param>
    public bool ShouldLog(string source, out long leftOut)
    {
        var now = time.GetTimestamp();
        lock (_sources)
        {
            if (!_sources.TryGetValue(source, out var counts))
            {
                if (_sources.Count >= MaxSources)
                {
                    Prune(now);
                }
                if (_sources.Count >= MaxSources)
                {
                    source = OtherSources;
                }
                if (!_sources.TryGetValue(source, out counts))
                {
                    _sources.Add(source, counts = new Source(now));
                }
            }
            if (time.GetElapsedTime(counts.WindowStart, now) >= window)
            {
                counts.WindowStart = now;
                counts.Logged = 0;
            }
            if (counts.Logged < linesPerWindow)
            {
                counts.Logged++;
                leftOut = counts.LeftOut;
                counts.LeftOut = 0;
                return true;
            }
            counts.LeftOut++;
            leftOut = 0;
            return false;
        }
    }

    // Sources whose window has passed with nothing left out have nothing to report.
    private void Prune(long now)
    {
        foreach (var (name, counts) in _sources)
        {
            if (counts.LeftOut == 0 && time.GetElapsedTime(counts.WindowStart, now) >= window)
            {
                _sources.Remove(name);
            }
        }
    }

    private sealed class Source(long windowStart)
    {
        public long WindowStart { get; set; } = windowStart;

        public int Logged { get; set; }

        public long LeftOut { get; set; }
    }
}

namespace Gateway.Scripting;

/// <summary>The <c>Gateway:Scripts</c> section: the bounds every call of a JavaScript hook runs under.</summary>
public sealed record ScriptOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:Scripts";

    /// <summary>Wall-clock time one hook call may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Statements one hook call may execute.</summary>
    public int MaxStatements { get; init; } = 100_000;

    /// <summary>Bytes one hook call may allocate.</summary>
    public long MaxMemoryBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// How deep one function of a hook may recurse; 0 counts nothing. Counting costs every call a little; without it,
    /// recursion is still stopped before the thread's stack runs out, by the engine's stack guard.
    /// </summary>
    public int MaxRecursionDepth { get; init; } = 64;

    /// <summary>The largest array a hook may create.</summary>
    public uint MaxArraySize { get; init; } = 100_000;

    /// <summary>Time one regular-expression match may take.</summary>
    public TimeSpan RegexTimeout { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Engines made and warmed per script at reload, before it serves.</summary>
    public int EnginesPerScript { get; init; } = Math.Max(2, Environment.ProcessorCount * 2);

    /// <summary>
    /// Engines a script keeps once more calls than <see cref="EnginesPerScript"/> have run at the same instant (never
    /// fewer than that). Making an engine runs the script's top level and freezes it, milliseconds on the request that
    /// needs it, so an engine made for a burst is kept for the next one rather than made again and again.
    /// </summary>
    public int MaxEnginesPerScript { get; init; } = Math.Max(16, Environment.ProcessorCount * 4);

    /// <summary>The settings that cannot work, as <c>(setting, problem)</c> pairs; empty when all can.</summary>
    internal IEnumerable<(string Setting, string Problem)> Problems()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            yield return (nameof(Timeout), "must be positive");
        }
        if (RegexTimeout <= TimeSpan.Zero)
        {
            yield return (nameof(RegexTimeout), "must be positive");
        }
        if (MaxStatements < 1)
        {
            yield return (nameof(MaxStatements), "must be at least 1");
        }
        if (MaxMemoryBytes < 1)
        {
            yield return (nameof(MaxMemoryBytes), "must be at least 1");
        }
        if (MaxRecursionDepth < 0)
        {
            yield return (nameof(MaxRecursionDepth), "must be 0 (not counted) or more");
        }
        if (MaxArraySize < 1)
        {
            yield return (nameof(MaxArraySize), "must be at least 1");
        }
        if (EnginesPerScript < 1)
        {
            yield return (nameof(EnginesPerScript), "must be at least 1");
        }
        if (MaxEnginesPerScript < 1)
        {
            yield return (nameof(MaxEnginesPerScript), "must be at least 1");
        }
    }
}

using System.Collections.Immutable;

namespace Gateway.Pipeline;

/// <summary>The last reloads, newest first, as <c>GET /admin/reloads</c> shows them: what an operator checks after one.</summary>
internal sealed class ReloadHistory(TimeProvider time)
{
    /// <summary>How many are kept.</summary>
    public const int Capacity = 20;

    private readonly Lock _gate = new();
    private ImmutableList<ReloadRecord> _records = [];

    public IReadOnlyList<ReloadRecord> Records => _records;

    /// <param name="generation">The generation serving after it: the new one, or for a rejected reload the one that kept serving.</param>
    public void Add(int generation, ImmutableArray<PipelineError> errors)
    {
        var record = new ReloadRecord(time.GetUtcNow(), errors.IsEmpty ? "applied" : "rejected", generation, errors);
        lock (_gate)
        {
            var records = _records.Insert(0, record);
            _records = records.Count > Capacity ? records.RemoveAt(Capacity) : records;
        }
    }
}

/// <summary>One reload: when, whether it was applied, the generation serving after it, and why it was rejected.</summary>
internal sealed record ReloadRecord(DateTimeOffset At, string Outcome, int Generation, IReadOnlyList<PipelineError> Errors);

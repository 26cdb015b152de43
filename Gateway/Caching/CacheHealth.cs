namespace Gateway.Caching;

/// <summary>What the shared cache is and whether its last operation worked; <c>/healthz</c> reports it.</summary>
internal sealed class CacheHealth(string kind)
{
    private volatile string? _lastError;

    /// <summary><c>redis</c> or <c>memory</c>.</summary>
    public string Kind { get; } = kind;

    /// <summary>Why the last operation failed; null once one has worked again.</summary>
    public string? LastError => _lastError;

    public void Succeeded() => _lastError = null;

    public void Failed(string error) => _lastError = error;
}

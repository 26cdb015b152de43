namespace Gateway.Scripting;

/// <summary>A hook call threw or breached a bound; the message starts with the script's file:line:column.</summary>
internal sealed class ScriptFailedException(string message, bool boundBreached, Exception inner) : Exception(message, inner)
{
    /// <summary>True when the call was stopped by a sandbox bound rather than by the script's own exception.</summary>
    public bool BoundBreached { get; } = boundBreached;
}

namespace Gateway.Pipeline;

/// <summary>
/// A stage that runs untrusted code under bounds (a script): what <c>/admin/pipeline</c> reports of it beyond calls
/// and errors.
/// </summary>
internal interface ISandboxedPlugin
{
    /// <summary>Calls stopped by a sandbox bound since the entry was loaded (also counted as errors).</summary>
    long Breaches { get; }

    /// <summary>Runtimes (engines) made since the entry was loaded, the warmed ones included.</summary>
    long EnginesCreated { get; }
}

namespace Gateway.Plugins;

/// <summary>The shared store (<see cref="ISharedScripts"/>) cannot be reached, did not answer in time, or a script failed.</summary>
/// <remarks>Added in 1.1.0.</remarks>
public sealed class SharedStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The store client's own exception.</param>
    public SharedStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

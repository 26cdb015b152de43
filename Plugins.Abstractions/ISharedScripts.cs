namespace Gateway.Plugins;

/// <summary>
/// Atomic scripts on the store every gateway node shares (the gateway's Redis, <c>ConnectionStrings:Redis</c>), for a
/// plugin whose decision must hold across nodes, such as a cluster-wide rate limit. Resolve it from
/// <see cref="PluginSetup.Services"/>; it is absent when the gateway has no Redis.
/// </summary>
/// <remarks>Added in 1.1.0.</remarks>
public interface ISharedScripts
{
    /// <summary>
    /// Runs a Lua script atomically (sent once, then called by its SHA-1), within the gateway's operation timeout
    /// (<c>Gateway:Cache:OperationTimeout</c>). Prefix the keys with your plugin's name: every plugin shares the store.
    /// </summary>
    /// <param name="script">The script; it reads <c>KEYS</c> and <c>ARGV</c> and returns an integer or an array of integers.</param>
    /// <param name="keys">The keys it touches.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <returns>The script's integers, one for an integer reply.</returns>
    /// <exception cref="SharedStoreException">The store cannot be reached, did not answer in time, or the script failed.</exception>
    ValueTask<long[]> EvaluateAsync(string script, string[] keys, long[] arguments);
}

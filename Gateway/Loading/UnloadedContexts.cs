namespace Gateway.Loading;

/// <summary>
/// Collects the load contexts of plugins just unloaded, rather than leaving them to whenever the next full garbage
/// collection happens: an idle gateway could keep unloaded contexts for hours, their memory with them, and a heap walk
/// meanwhile (what <c>dotnet-gcdump</c> asks the runtime for) ended the process with a fault in the runtime's GC.
/// </summary>
internal static class UnloadedContexts
{
    // An unloaded context takes two or three collections (its finalizers run in between); ten is far past that.
    private const int MaxCollections = 10;

    /// <summary>Runs full collections until no context of <paramref name="assemblies"/> is alive, at most a few.</summary>
    /// <returns>False when one is still alive: something outside the plugin holds one of its objects.</returns>
    public static bool Collect(IReadOnlyList<LoadedPluginAssembly> assemblies)
    {
        for (var collections = 0; ; collections++)
        {
            if (!assemblies.Any(assembly => assembly.LoadContext.TryGetTarget(out _)))
            {
                return true;
            }
            if (collections == MaxCollections)
            {
                return false;
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Gateway.Pipeline;

namespace Gateway.Tests.Infrastructure;

/// <summary>Watches plugin load contexts die, the way McMaster's own tests prove unloading.</summary>
internal static class LoadContexts
{
    /// <summary>Weak references to the load contexts of the current snapshot's plugin assemblies.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static List<WeakReference> OfCurrent(PipelineHolder holder)
    {
        var contexts = new List<WeakReference>();
        foreach (var assembly in holder.Current!.Assemblies)
        {
            Assert.True(assembly.LoadContext.TryGetTarget(out var context));
            contexts.Add(new WeakReference(context));
        }
        return contexts;
    }

    /// <summary>Collects until every context is gone, for a bounded number of rounds.</summary>
    /// <returns>How many are still alive.</returns>
    public static async Task<int> CollectAsync(IReadOnlyCollection<WeakReference> contexts)
    {
        for (var round = 0; round < 30 && contexts.Any(c => c.IsAlive); round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            await Task.Yield();
        }
        return contexts.Count(c => c.IsAlive);
    }

    /// <summary>
    /// Weak references to the collectible contexts named <paramref name="name"/> alive now, so that a test can later
    /// count only the contexts it created itself: an earlier test's gateway may not have been collected yet.
    /// </summary>
    public static List<WeakReference> Named(string name) => [.. Collectible(name).Select(c => new WeakReference(c))];

    /// <summary>Collectible contexts named <paramref name="name"/> alive now that were not in <paramref name="before"/>.</summary>
    public static int AliveSince(string name, IReadOnlyCollection<WeakReference> before) =>
        Collectible(name).Count(c => !before.Any(b => ReferenceEquals(b.Target, c)));

    private static IEnumerable<AssemblyLoadContext> Collectible(string name) =>
        AssemblyLoadContext.All.Where(c => c.IsCollectible && c.Name == name);
}

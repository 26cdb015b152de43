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

    public static int Alive(string name) =>
        AssemblyLoadContext.All.Count(context => context.IsCollectible && context.Name == name);
}

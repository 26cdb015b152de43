using System.Runtime.CompilerServices;

namespace Gateway.Pipeline;

/// <summary>
/// Moves work that may block off a socket thread. With inline I/O (<c>Gateway:InlineIo</c>, the default) a socket's
/// completion runs the code awaiting it on one of the runtime's socket threads, one per core, each serving a share of
/// every connection: a step that blocks there stalls all of them. Those threads are not the thread pool's, so the test
/// is one flag, and costs nothing where every completion is already handed to the pool.
/// </summary>
internal static class ThreadPoolHop
{
    /// <summary>Whether the caller is on a thread outside the pool: a socket thread, with inline I/O.</summary>
    public static bool IsNeeded => !Thread.CurrentThread.IsThreadPoolThread;

    /// <summary>
    /// Awaited, moves the rest of the caller to the thread pool: without a synchronization context or a task scheduler
    /// of its own (none here), a yield queues its continuation there.
    /// </summary>
    public static YieldAwaitable ToPool() => Task.Yield();

    /// <summary>Runs <paramref name="next"/> on the thread pool.</summary>
    public static async Task ContinueOnPoolAsync(HttpContext context, RequestDelegate next)
    {
        await ToPool();
        await next(context).ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="work"/> to the thread pool when the caller is outside it, else runs it here.</summary>
    public static void Run<TState>(Action<TState> work, TState state)
    {
        if (IsNeeded)
        {
            ThreadPool.UnsafeQueueUserWorkItem(work, state, preferLocal: false);
        }
        else
        {
            work(state);
        }
    }
}

namespace Gateway.Plugins;

/// <summary>
/// Declares that the plugin's steps never block a thread: no synchronous I/O, no waiting on a lock, a task or another
/// request, and no more than a moment of CPU work (well under a millisecond) between awaits. The gateway then runs
/// them wherever the request is, which under its default I/O settings is a socket thread serving many connections at
/// once. Without it the gateway moves the request to the thread pool before each of the plugin's steps, so a plugin
/// that blocks holds up one request, not every connection of a socket thread.
/// </summary>
/// <remarks>
/// Added in 1.3.0. Whatever the declaration, code after an await of the plugin's own network I/O may run on a socket
/// thread, and so does a stream given to <see cref="PluginContext.TryWrapResponseBody"/>: a plugin must never block
/// there (<c>.Result</c>, <c>.Wait()</c> or <c>GetAwaiter().GetResult()</c> there can stall the gateway).
/// </remarks>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class NonBlockingAttribute : Attribute
{
}

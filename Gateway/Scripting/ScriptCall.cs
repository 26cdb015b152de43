using Gateway.Plugins;

namespace Gateway.Scripting;

/// <summary>Which hook is running.</summary>
internal enum HookPhase
{
    Request,
    Response,
}

/// <summary>
/// The call an engine is serving right now. An engine's <c>ctx</c> object is built once and reads through this, so
/// a call costs setting three fields rather than building host objects.
/// </summary>
internal sealed class ScriptCall
{
    public PluginContext Context { get; private set; } = null!;

    public HookPhase Phase { get; private set; }

    /// <summary>What <c>ctx.respond</c> asked for; null while the request goes on upstream.</summary>
    public ScriptReply? Reply { get; set; }

    /// <summary>True while the script runs against the synthetic warm-up request: its log lines are dropped.</summary>
    public bool WarmingUp { get; set; }

    public HttpContext Http => Context.HttpContext;

    public void Begin(PluginContext context, HookPhase phase)
    {
        Context = context;
        Phase = phase;
        Reply = null;
    }

    public void End() => Context = null!;
}

/// <summary>An answer a script gave with <c>ctx.respond</c>, written once the hook has returned.</summary>
internal sealed record ScriptReply(int Status, string? Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers);

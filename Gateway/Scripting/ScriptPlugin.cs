using System.Text;
using System.Text.Json;
using Gateway.Pipeline;
using Gateway.Plugins;
using Microsoft.Extensions.ObjectPool;

namespace Gateway.Scripting;

/// <summary>
/// A script entry of the pipeline, run like any plugin: a filter whose request step is <c>onRequest</c> and whose
/// response step is <c>onResponse</c>. Each call borrows a warmed engine from this entry's pool; an engine never spans
/// an await, so the pool only needs as many engines as requests run the script at the same instant.
/// </summary>
internal sealed partial class ScriptPlugin : IGatewayFilter, ISandboxedPlugin, IDisposable
{
    private readonly ObjectPool<ScriptEngine> _engines;
    private readonly EnginePolicy _policy;
    private readonly ILogger _logger;
    private readonly LogThrottle _breachLines;
    private readonly bool _hasOnRequest;
    private readonly bool _hasOnResponse;
    private long _breaches;

    private ScriptPlugin(CompiledScript script, ObjectPool<ScriptEngine> engines, EnginePolicy policy, bool hasOnRequest, bool hasOnResponse, ILogger logger, TimeProvider time)
    {
        Script = script;
        _engines = engines;
        _policy = policy;
        _hasOnRequest = hasOnRequest;
        _hasOnResponse = hasOnResponse;
        _logger = logger;
        _breachLines = new LogThrottle(time, linesPerWindow: 10, TimeSpan.FromMinutes(1));
    }

    public CompiledScript Script { get; }

    /// <summary>Calls stopped by a sandbox bound since this entry was loaded.</summary>
    public long Breaches => Volatile.Read(ref _breaches);

    /// <summary>
    /// Engines made since this entry was loaded, the warmed ones included. Growing under steady traffic means more
    /// calls run at once than <see cref="ScriptOptions.MaxEnginesPerScript"/> keeps (or bounds keep being breached).
    /// </summary>
    public long EnginesCreated => _policy.Created;

    /// <summary>
    /// Runs the script's top level, warms its hooks on a synthetic request, and fills the engine pool, so the entry
    /// is ready before its pipeline serves.
    /// </summary>
    /// <exception cref="ScriptLoadException">The top level failed, a hook failed on the warm-up request, or the script defines no hook.</exception>
    public static ScriptPlugin Load(CompiledScript script, JsonElement config, ScriptOptions options, ILogger logger, TimeProvider time)
    {
        // The warm-up engine has a generous time bound: it takes the cold-process cost of the first calls.
        var warmUpTimeout = options.Timeout > TimeSpan.FromSeconds(5) ? options.Timeout : TimeSpan.FromSeconds(5);
        bool hasOnRequest, hasOnResponse;
        using (var warmUp = new ScriptEngine(script, config, options, logger, warmUpTimeout))
        {
            (hasOnRequest, hasOnResponse) = (warmUp.HasOnRequest, warmUp.HasOnResponse);
            if (!hasOnRequest && !hasOnResponse)
            {
                throw new ScriptLoadException($"{script.Name}: defines neither onRequest(ctx) nor onResponse(ctx)");
            }
            WarmUp(warmUp);
        }

        var policy = new EnginePolicy(() => new ScriptEngine(script, config, options, logger, options.Timeout));
        var retained = Math.Max(options.EnginesPerScript, options.MaxEnginesPerScript);
        var engines = new DefaultObjectPoolProvider { MaximumRetained = retained }.Create(policy);
        var ready = new List<ScriptEngine>(options.EnginesPerScript);
        try
        {
            while (ready.Count < options.EnginesPerScript)
            {
                ready.Add(engines.Get());
                WarmUp(ready[^1]);
            }
        }
        catch
        {
            ready.ForEach(engine => engine.Dispose());
            throw;
        }
        ready.ForEach(engines.Return);
        return new ScriptPlugin(script, engines, policy, hasOnRequest, hasOnResponse, logger, time);
    }

    // Runs each hook once on a synthetic request. A hook that throws or breaks a bound there would fail real requests
    // the same way, so the reload is refused rather than the traffic.
    private static void WarmUp(ScriptEngine engine)
    {
        engine.WarmingUp = true;
        try
        {
            var context = new WarmUpContext();
            if (engine.HasOnRequest)
            {
                engine.RunOnRequest(context);
            }
            if (engine.HasOnResponse)
            {
                engine.RunOnResponse(context);
            }
        }
        catch (ScriptFailedException ex)
        {
            throw new ScriptLoadException($"{ex.Message} (on the reload's warm-up request)", ex);
        }
        finally
        {
            engine.WarmingUp = false;
        }
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        if (_hasOnRequest && RunOnRequest(context) is { } reply)
        {
            Answer(context, reply);
            return new ValueTask<bool>(false);
        }
        return new ValueTask<bool>(true);
    }

    public void OnResponse(PluginContext context)
    {
        if (_hasOnResponse)
        {
            RunOnResponse(context);
        }
    }

    // Beside middleware stages: the same two steps around next, with no frame held when there is no onResponse.
    public ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        if (!OnRequestAsync(context).Result)
        {
            return default;
        }
        if (!_hasOnResponse)
        {
            return next(context);
        }
        var pending = next(context);
        if (!pending.IsCompletedSuccessfully)
        {
            return RunOnResponseAfterAsync(pending, context);
        }
        pending.GetAwaiter().GetResult();
        RunOnResponse(context);
        return default;
    }

    private async ValueTask RunOnResponseAfterAsync(ValueTask pending, PluginContext context)
    {
        await pending.ConfigureAwait(false);
        RunOnResponse(context);
    }

    private ScriptReply? RunOnRequest(PluginContext context) =>
        Run(static (engine, context) => engine.RunOnRequest(context), context);

    private void RunOnResponse(PluginContext context) =>
        Run(static (engine, context) =>
        {
            engine.RunOnResponse(context);
            return (ScriptReply?)null;
        }, context);

    // Borrows an engine for one hook call; static callbacks keep the call allocation-free.
    private ScriptReply? Run(Func<ScriptEngine, PluginContext, ScriptReply?> call, PluginContext context)
    {
        var engine = _engines.Get();
        try
        {
            return call(engine, context);
        }
        catch (ScriptFailedException ex) when (ex.BoundBreached)
        {
            OnBreach(ex);
            throw;
        }
        finally
        {
            _engines.Return(engine);
        }
    }

    private void OnBreach(ScriptFailedException ex)
    {
        Interlocked.Increment(ref _breaches);
        if (_breachLines.ShouldLog(Script.Name, out var leftOut))
        {
            if (leftOut == 0)
            {
                Log.BoundBreached(_logger, Script.Name, ex.Message);
            }
            else
            {
                Log.BoundBreachedAgain(_logger, Script.Name, leftOut, ex.Message);
            }
        }
    }

    private static void Answer(PluginContext context, ScriptReply reply)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers)
        {
            response.Headers.Append(name, value);
        }
        if (reply.Body is not null && !response.Headers.ContainsKey("Content-Type"))
        {
            response.ContentType = reply.ContentType;
        }
        // The runner writes the body after the stages unwind.
        if (reply.Body is not null)
        {
            context.DeferResponseBody(Encoding.UTF8.GetBytes(reply.Body));
        }
    }

    public void Dispose() => (_engines as IDisposable)?.Dispose();

    private sealed class EnginePolicy(Func<ScriptEngine> create) : PooledObjectPolicy<ScriptEngine>
    {
        private long _created;

        public long Created => Volatile.Read(ref _created);

        public override ScriptEngine Create()
        {
            var engine = create();
            Interlocked.Increment(ref _created);
            return engine;
        }

        // An engine stopped mid-call may hold half-done state; the pool disposes it and makes a fresh one when needed.
        public override bool Return(ScriptEngine engine) => !engine.Broken;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ScriptBoundBreached, LogLevel.Warning, "{Script}: a call breached a sandbox bound and its engine was discarded: {Message}")]
        public static partial void BoundBreached(ILogger logger, string script, string message);

        [LoggerMessage(EventIds.ScriptBoundBreached, LogLevel.Warning, "{Script}: a call breached a sandbox bound and its engine was discarded, and {LeftOut} more since the last such line (at most ten are logged a minute): {Message}")]
        public static partial void BoundBreachedAgain(ILogger logger, string script, long leftOut, string message);
    }
}

using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Plugins;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;

namespace Gateway.Scripting;

/// <summary>
/// One sandboxed Jint engine that has run a script's top level: its hooks, its frozen globals and its prebuilt
/// <c>ctx</c>. Serves one call at a time; pooled by <see cref="ScriptPlugin"/>.
/// </summary>
internal sealed class ScriptEngine : IDisposable
{
    private readonly Engine _engine;
    private readonly CompiledScript _script;
    private readonly ScriptOptions _options;
    private readonly ScriptCall _call = new();
    private readonly JsValue _onRequest;
    private readonly JsValue _onResponse;
    private readonly JsValue[] _arguments;

    /// <param name="timeout">The per-call time bound; longer than configured only for the warm-up engine.</param>
    /// <exception cref="ScriptLoadException">The top level threw or breached a bound.</exception>
    public ScriptEngine(CompiledScript script, JsonElement config, ScriptOptions options, ILogger logger, TimeSpan timeout)
    {
        _script = script;
        _options = options;
        _engine = new Engine(engineOptions =>
        {
            engineOptions.Strict();
            engineOptions.DisableStringCompilation();
            engineOptions.Interop.Enabled = false;
            engineOptions.TimeoutInterval(timeout);
            engineOptions.MaxStatements(options.MaxStatements);
            engineOptions.LimitMemory(options.MaxMemoryBytes);
            // A plain depth bound; LimitRecursion would hash every call, ClrFunctions included, to count repeats.
            engineOptions.Constraints.MaxExecutionStackCount = options.MaxRecursionDepth;
            engineOptions.MaxArraySize(options.MaxArraySize);
            engineOptions.RegexTimeoutInterval(options.RegexTimeout);
        });

        JsArray exports;
        try
        {
            _engine.Execute(script.Program);
            exports = (JsArray)_engine.Evaluate(script.Exports);
        }
        catch (Exception ex) when (Describe(ex) is { } failure)
        {
            _engine.Dispose();
            throw new ScriptLoadException($"{failure.Location}: its top level failed: {failure.Message}", ex);
        }
        _onRequest = exports[0];
        _onResponse = exports[1];
        var configValue = config.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
            ? new JsObject(_engine)
            : ScriptValues.FromJson(_engine, config);
        Lockdown.DeepFreeze(_engine, _engine.Global, exports[2], configValue);
        _arguments = [ScriptContextObject.Create(_engine, _call, configValue, script.Name, logger)];
    }

    public bool HasOnRequest => !_onRequest.IsUndefined();

    public bool HasOnResponse => !_onResponse.IsUndefined();

    /// <summary>Set once a call breached a bound: the engine may be mid-way through anything and is not reused.</summary>
    public bool Broken { get; private set; }

    /// <summary>True while running the synthetic warm-up request, whose log lines are dropped.</summary>
    public bool WarmingUp
    {
        get => _call.WarmingUp;
        set => _call.WarmingUp = value;
    }

    /// <summary>Runs <c>onRequest</c>.</summary>
    /// <returns>The answer the script gave with <c>ctx.respond</c>, or null to go on upstream.</returns>
    /// <exception cref="ScriptFailedException">The hook threw or breached a bound.</exception>
    public ScriptReply? RunOnRequest(PluginContext context)
    {
        Run(_onRequest, context, HookPhase.Request);
        return _call.Reply;
    }

    /// <summary>Runs <c>onResponse</c>.</summary>
    /// <exception cref="ScriptFailedException">The hook threw or breached a bound.</exception>
    public void RunOnResponse(PluginContext context) => Run(_onResponse, context, HookPhase.Response);

    private void Run(JsValue hook, PluginContext context, HookPhase phase)
    {
        _call.Begin(context, phase);
        try
        {
            _engine.Call(hook, JsValue.Undefined, _arguments);
        }
        catch (Exception ex) when (Describe(ex) is { } failure)
        {
            Broken |= failure.BoundBreached;
            throw new ScriptFailedException($"{failure.Location}: {failure.Message}", failure.BoundBreached, ex);
        }
        finally
        {
            _call.End();
        }
    }

    private Failure? Describe(Exception exception) => exception switch
    {
        JavaScriptException js when IsStackBound(js) => Breach($"exceeded its recursion bound of {_options.MaxRecursionDepth} nested calls"),
        JavaScriptException js => new Failure(
            js.Location.SourceFile is { Length: > 0 } file ? $"{file}:{js.Location.Start.Line}:{js.Location.Start.Column + 1}" : _script.Name,
            js.Error.ToString(),
            BoundBreached: false),
        StatementsCountOverflowException => Breach($"exceeded its bound of {_options.MaxStatements} statements"),
        MemoryLimitExceededException memory => Breach($"exceeded its memory bound: {memory.Message}"),
        RegexMatchTimeoutException => Breach($"a regular expression exceeded its time bound of {_options.RegexTimeout.TotalMilliseconds} ms"),
        TimeoutException => Breach($"exceeded its time bound of {_options.Timeout.TotalMilliseconds} ms"),
        _ => null,
    };

    // The execution stack bound surfaces as the RangeError a browser throws; escaping the hook, it is a breach.
    private static bool IsStackBound(JavaScriptException exception) =>
        exception.Error is ObjectInstance error
        && error.HasProperty("name") && error.Get("name").ToString() == "RangeError"
        && exception.Message == "Maximum call stack size exceeded";

    private Failure Breach(string message) => new(CurrentLocation(), message, BoundBreached: true);

    // A breach carries no location; the engine's call stack still points where the script was stopped.
    private string CurrentLocation()
    {
        var stack = _engine.Advanced.StackTrace;
        var firstLine = stack.AsSpan().TrimStart();
        var end = firstLine.IndexOfAny('\r', '\n');
        var frame = (end < 0 ? firstLine : firstLine[..end]).Trim();
        if (frame.StartsWith("at "))
        {
            frame = frame[3..];
        }
        var open = frame.LastIndexOf('(');
        if (open >= 0 && frame.EndsWith(')'))
        {
            frame = frame[(open + 1)..^1];
        }
        return frame.IsEmpty ? _script.Name : frame.ToString();
    }

    public void Dispose() => _engine.Dispose();

    private sealed record Failure(string Location, string Message, bool BoundBreached);
}

using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Plugins;
using Gateway.Scripting.Sandbox;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;

namespace Gateway.Scripting;

/// <summary>
/// One sandboxed Jint engine that has run a script's top level: its hooks, its frozen globals and its prebuilt
/// <c>ctx</c>. Serves one call at a time; pooled by <see cref="ScriptPlugin"/>.
/// </summary>
internal sealed partial class ScriptEngine : IDisposable
{
    private static readonly CancellationToken Settled = new(canceled: true);

    private readonly Engine _engine;
    private readonly CompiledScript _script;
    private readonly ScriptOptions _options;
    private readonly CallBounds _bounds;
    private readonly ScriptCall _call = new();
    private readonly JsValue _onRequest;
    private readonly JsValue _onResponse;
    private readonly JsValue[] _arguments;
    private readonly Lockdown.Frozen _frozen;

    /// <param name="timeout">The per-call time bound; longer than configured only for the warm-up engine.</param>
    /// <exception cref="ScriptLoadException">The top level threw or breached a bound.</exception>
    public ScriptEngine(CompiledScript script, JsonElement config, ScriptOptions options, ILogger logger, TimeSpan timeout)
    {
        _script = script;
        _options = options;
        _bounds = new CallBounds(options.MaxStatements, timeout, options.MaxMemoryBytes);
        _engine = new Engine(engineOptions =>
        {
            engineOptions.Strict();
            engineOptions.DisableStringCompilation();
            engineOptions.Interop.Enabled = false;
            engineOptions.Constraint(_bounds.Statements);
            engineOptions.Constraint(_bounds.Clock);
            // Jint's own memory bound as well: it charges string concatenations that defer their copy.
            engineOptions.LimitMemory(options.MaxMemoryBytes);
            if (options.MaxRecursionDepth > 0)
            {
                engineOptions.LimitRecursion(options.MaxRecursionDepth);
            }
            // Recursion the depth bound cannot see (through built-ins, accessors, Proxy traps, deep structures) is
            // stopped while the thread still has stack left; without it, one such call ends the process.
            engineOptions.Constraints.StackOverflowGuard = true;
            engineOptions.MaxArraySize(options.MaxArraySize);
            engineOptions.RegexTimeoutInterval(options.RegexTimeout);
        });

        JsArray exports;
        try
        {
            SandboxBuiltIns.Install(_engine, _bounds);
            _bounds.Start();
            _engine.Execute(script.Program);
            _engine.Advanced.ProcessTasks();
            exports = (JsArray)_engine.Evaluate(script.Exports);
        }
        catch (Exception ex)
        {
            var failure = Describe(ex);
            _engine.Dispose();
            throw new ScriptLoadException($"{failure.Location}: its top level failed: {failure.Message}", ex);
        }
        _onRequest = exports[0];
        _onResponse = exports[1];
        var configValue = config.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
            ? new JsObject(_engine)
            : ScriptValues.FromJson(_engine, config);
        var ctx = ScriptContextObject.Create(_engine, _call, configValue, script.Name, logger);
        _frozen = Lockdown.DeepFreeze(_engine, exports[2], configValue, ctx);
        _arguments = [ctx];
    }

    public bool HasOnRequest => !_onRequest.IsUndefined();

    public bool HasOnResponse => !_onResponse.IsUndefined();

    /// <summary>Set once a call breached a bound or failed inside the engine: it may be mid-way through anything and is not reused.</summary>
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

    // The hook, then the promise jobs it queued (an async hook's code after an await), all inside the call's bounds
    // and before ctx is released; a hook's promise must have settled by then, there being no timers or I/O to wait on.
    private void Run(JsValue hook, PluginContext context, HookPhase phase)
    {
        _call.Begin(context, phase);
        _frozen.ResetRegExps();
        _bounds.Start();
        try
        {
            var result = _engine.Call(hook, JsValue.Undefined, _arguments);
            _engine.Advanced.ProcessTasks();
            if (result.IsPromise())
            {
                Settle(result, phase);
            }
        }
        catch (Exception ex) when (ex is not ScriptFailedException)
        {
            var failure = Describe(ex);
            // An engine stopped by a bound, or by anything but the script's own error, may hold half-done state or
            // queued jobs; it is discarded rather than handed to the next request.
            Broken |= failure.BoundBreached || ex is not JavaScriptException;
            throw new ScriptFailedException($"{failure.Location}: {failure.Message}", failure.BoundBreached, ex);
        }
        finally
        {
            _call.End();
        }
    }

    private void Settle(JsValue promise, HookPhase phase)
    {
        var hook = phase == HookPhase.Request ? "onRequest" : "onResponse";
        try
        {
            promise.UnwrapIfPromise(Settled);
        }
        catch (PromiseRejectedException rejected)
        {
            throw new ScriptFailedException(
                $"{LocationOf(rejected.RejectedValue)}: {hook}'s promise was rejected: {ScriptValues.ToText(rejected.RejectedValue)}",
                boundBreached: false, rejected);
        }
        catch (OperationCanceledException pending)
        {
            throw new ScriptFailedException(
                $"{_script.Name}: {hook}'s promise was still pending when its jobs had run: a hook can await only promises "
                + "it settles itself (there are no timers or I/O to wait for)",
                boundBreached: false, pending);
        }
    }

    private Failure Describe(Exception exception) => exception switch
    {
        JavaScriptException js when IsStackBound(js) => Breach("ran out of stack: a recursion through built-ins, accessors or Proxy traps, or a structure nested too deeply"),
        JavaScriptException js => new Failure(
            js.Location.SourceFile is { Length: > 0 } file ? $"{file}:{js.Location.Start.Line}:{js.Location.Start.Column + 1}" : _script.Name,
            js.Error.ToString(),
            BoundBreached: false),
        ScriptBoundException bound => Breach(bound.Message),
        RecursionDepthOverflowException => Breach($"exceeded its recursion bound of {_options.MaxRecursionDepth} nested calls"),
        MemoryLimitExceededException memory => Breach($"exceeded its memory bound: {memory.Message}"),
        OutOfMemoryException => Breach("ran out of memory"),
        RegexMatchTimeoutException => Breach($"a regular expression exceeded its time bound of {_options.RegexTimeout.TotalMilliseconds} ms"),
        _ => new Failure(CurrentLocation(), $"failed inside the script engine: {exception.GetType().Name}: {exception.Message}", BoundBreached: false),
    };

    // The stack guard surfaces as the RangeError a browser throws; escaping the hook, it is a breach.
    private static bool IsStackBound(JavaScriptException exception) =>
        exception.Error is ObjectInstance error
        && error.HasProperty("name") && error.Get("name").ToString() == "RangeError"
        && exception.Message == "Maximum call stack size exceeded";

    private Failure Breach(string message) => new(CurrentLocation(), message, BoundBreached: true);

    // A breach carries no location; the engine's call stack still points where the script was stopped.
    private string CurrentLocation() => FirstFrame(_engine.Advanced.StackTrace) ?? _script.Name;

    // A rejection carries the error it was rejected with; its stack says where that was made.
    private string LocationOf(JsValue reason) =>
        reason is ObjectInstance error && error.Get("stack") is JsString stack && FirstFrame(stack.ToString()) is { } frame
            ? frame
            : _script.Name;

    private static string? FirstFrame(string stack)
    {
        var match = StackFrame().Match(stack);
        return match.Success ? match.Groups[1].Value : null;
    }

    // "   at onRequest (scripts/x.js:3:11)" or "   at scripts/x.js:3:11".
    [GeneratedRegex(@"at (?:[^\r\n(]*\()?([^\s()]+:\d+:\d+)\)?")]
    private static partial Regex StackFrame();

    public void Dispose() => _engine.Dispose();

    private sealed record Failure(string Location, string Message, bool BoundBreached);
}

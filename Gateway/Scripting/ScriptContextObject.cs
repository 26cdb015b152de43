using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace Gateway.Scripting;

/// <summary>
/// Builds an engine's <c>ctx</c>, once: objects whose functions and accessors read the engine's current
/// <see cref="ScriptCall"/>, frozen with the rest of the engine by <see cref="Sandbox.Lockdown"/>. A call allocates only
/// the values it returns. <c>scripts/gateway.d.ts</c> documents it.
/// </summary>
internal sealed partial class ScriptContextObject
{
    private readonly Engine _engine;
    private readonly ScriptCall _call;
    private readonly string _scriptName;
    private readonly ILogger _logger;
    private readonly JsValue _stringify;

    private ScriptContextObject(Engine engine, ScriptCall call, string scriptName, ILogger logger)
    {
        _engine = engine;
        _call = call;
        _scriptName = scriptName;
        _logger = logger;
        _stringify = engine.GetValue("JSON").Get("stringify");
    }

    /// <summary>Builds <c>ctx</c> for <paramref name="engine"/>, not yet frozen.</summary>
    public static JsObject Create(Engine engine, ScriptCall call, JsValue config, string scriptName, ILogger logger) =>
        new ScriptContextObject(engine, call, scriptName, logger).Build(config);

    private JsObject Build(JsValue config)
    {
        var ctx = NewObject();
        Accessor(ctx, "route", () => new JsString(_call.Context.RouteId));
        Accessor(ctx, "cluster", () => new JsString(_call.Context.ClusterId));
        Data(ctx, "config", config);
        Data(ctx, "vars", new VarsObject(_engine, _call));
        Data(ctx, "request", BuildRequest());
        Data(ctx, "response", BuildResponse());
        Data(ctx, "upstream", BuildUpstream());
        Method(ctx, "respond", 3, Respond);
        Method(ctx, "log", 1, arguments =>
        {
            if (!_call.WarmingUp)
            {
                Log.ScriptMessage(_logger, _scriptName, _call.Context.RouteId, ScriptValues.ToText(arguments.At(0)));
            }
            return JsValue.Undefined;
        });
        return ctx;
    }

    private JsObject BuildRequest()
    {
        var request = NewObject();
        Accessor(request, "method", () => new JsString(_call.Http.Request.Method));
        Accessor(request, "path", () => new JsString(_call.Http.Request.Path.Value ?? "/"), value =>
        {
            RequirePhase(HookPhase.Request, "ctx.request.path can be set");
            var path = ScriptValues.ToText(value);
            if (!path.StartsWith('/'))
            {
                throw TypeError($"ctx.request.path must start with '/', got '{path}'");
            }
            _call.Http.Request.Path = new PathString(path);
        });
        Accessor(request, "host", () => new JsString(_call.Http.Request.Host.Value ?? string.Empty));
        Accessor(request, "scheme", () => new JsString(_call.Http.Request.Scheme));
        Accessor(request, "clientIp", () => _call.Http.Connection.RemoteIpAddress is { } address ? new JsString(address.ToString()) : JsValue.Null);
        Data(request, "headers", BuildHeaders("ctx.request.headers", () => _call.Http.Request.Headers, HookPhase.Request));
        Data(request, "query", BuildQuery());

        var cookies = NewObject();
        Method(cookies, "get", 1, arguments =>
            _call.Http.Request.Cookies.TryGetValue(Name(arguments, "ctx.request.cookies.get"), out var value) ? new JsString(value) : JsValue.Null);
        Method(cookies, "has", 1, arguments =>
            Boolean(_call.Http.Request.Cookies.ContainsKey(Name(arguments, "ctx.request.cookies.has"))));
        Data(request, "cookies", cookies);
        return request;
    }

    private JsObject BuildQuery()
    {
        var query = NewObject();
        Method(query, "get", 1, arguments =>
            _call.Http.Request.Query.TryGetValue(Name(arguments, "ctx.request.query.get"), out var values) && values.Count > 0
                ? new JsString(values[0]!)
                : JsValue.Null);
        Method(query, "has", 1, arguments => Boolean(_call.Http.Request.Query.ContainsKey(Name(arguments, "ctx.request.query.has"))));
        Method(query, "set", 2, arguments =>
        {
            var name = Name(arguments, "ctx.request.query.set");
            RewriteQuery("ctx.request.query.set", query => query[name] = ScriptValues.ToText(arguments.At(1)));
            return JsValue.Undefined;
        });
        Method(query, "remove", 1, arguments =>
        {
            var name = Name(arguments, "ctx.request.query.remove");
            RewriteQuery("ctx.request.query.remove", query => query.Remove(name));
            return JsValue.Undefined;
        });
        Method(query, "toString", 0, _ => new JsString(_call.Http.Request.QueryString.Value ?? string.Empty));
        return query;
    }

    private void RewriteQuery(string function, Action<Dictionary<string, StringValues>> change)
    {
        RequirePhase(HookPhase.Request, function + " is");
        var request = _call.Http.Request;
        var query = QueryHelpers.ParseQuery(request.QueryString.Value);
        change(query);
        // QueryBuilder keeps order and encodes; the upstream request is built from Request.QueryString.
        request.QueryString = new QueryBuilder(query).ToQueryString();
    }

    private JsObject BuildResponse()
    {
        var response = NewObject();
        Accessor(response, "status", () =>
        {
            RequirePhase(HookPhase.Response, "ctx.response is");
            return new JsNumber(_call.Http.Response.StatusCode);
        }, value =>
        {
            RequirePhase(HookPhase.Response, "ctx.response is");
            _call.Http.Response.StatusCode = Status(value, "ctx.response.status");
        });
        Data(response, "headers", BuildHeaders("ctx.response.headers", () => _call.Http.Response.Headers, HookPhase.Response));
        return response;
    }

    private JsObject BuildHeaders(string owner, Func<IHeaderDictionary> headers, HookPhase phase)
    {
        // The names errors are reported under, built here so that a call concatenates nothing.
        var (what, get, has, set, append, remove) =
            (owner + " is", owner + ".get", owner + ".has", owner + ".set", owner + ".append", owner + ".remove");
        var result = NewObject();
        Method(result, "get", 1, arguments =>
        {
            RequirePhase(phase, what);
            var values = headers()[Name(arguments, get)];
            return values.Count == 0 ? JsValue.Null : new JsString(values.ToString());
        });
        Method(result, "has", 1, arguments =>
        {
            RequirePhase(phase, what);
            return Boolean(headers().ContainsKey(Name(arguments, has)));
        });
        Method(result, "set", 2, arguments =>
        {
            RequirePhase(phase, what);
            headers()[HeaderName(arguments, set)] = HeaderValue(arguments.At(1), set);
            return JsValue.Undefined;
        });
        Method(result, "append", 2, arguments =>
        {
            RequirePhase(phase, what);
            var name = HeaderName(arguments, append);
            var target = headers();
            target[name] = StringValues.Concat(target[name], HeaderValue(arguments.At(1), append));
            return JsValue.Undefined;
        });
        Method(result, "remove", 1, arguments =>
        {
            RequirePhase(phase, what);
            headers().Remove(Name(arguments, remove));
            return JsValue.Undefined;
        });
        return result;
    }

    private JsObject BuildUpstream()
    {
        var upstream = NewObject();
        Accessor(upstream, "candidates", () =>
        {
            RequirePhase(HookPhase.Request, "ctx.upstream is");
            var destinations = _call.Context.Destinations;
            var ids = new JsValue[destinations.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = new JsString(destinations[i].Id);
            }
            return new JsArray(_engine, ids);
        });
        Method(upstream, "choose", 1, arguments =>
        {
            RequirePhase(HookPhase.Request, "ctx.upstream is");
            return Boolean(_call.Context.ChooseDestination(Name(arguments, "ctx.upstream.choose")));
        });
        return upstream;
    }

    private JsValue Respond(JsValue[] arguments)
    {
        RequirePhase(HookPhase.Request, "ctx.respond is");
        if (_call.Reply is not null)
        {
            throw TypeError("ctx.respond was already called for this request");
        }
        var status = Status(arguments.At(0), "ctx.respond");
        var body = arguments.At(1);
        string? text = null;
        string? contentType = null;
        if (body.IsString())
        {
            (text, contentType) = (body.AsString(), "text/plain; charset=utf-8");
        }
        else if (!body.IsNull() && !body.IsUndefined())
        {
            (text, contentType) = (ScriptValues.ToText(_engine.Call(_stringify, JsValue.Undefined, [body])), "application/json; charset=utf-8");
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (arguments.At(2) is ObjectInstance headerObject)
        {
            foreach (var key in headerObject.GetOwnPropertyKeys(Types.String))
            {
                var name = key.AsString();
                if (!HttpTokens.IsToken(name))
                {
                    throw TypeError($"ctx.respond: '{name}' is not a valid header name");
                }
                headers.Add(new(name, HeaderValue(headerObject.Get(key), "ctx.respond")));
            }
        }
        _call.Reply = new ScriptReply(status, text, contentType, headers);
        return JsValue.Undefined;
    }

    private void RequirePhase(HookPhase phase, string what)
    {
        if (_call.Phase != phase)
        {
            throw TypeError($"{what} available in {(phase == HookPhase.Request ? "onRequest" : "onResponse")} only");
        }
    }

    private int Status(JsValue value, string function)
    {
        var number = value.IsNumber() ? value.AsNumber() : double.NaN;
        if (number is < 100 or > 599 || number != Math.Floor(number) || double.IsNaN(number))
        {
            throw TypeError($"{function}: a status is an integer from 100 to 599, got {ScriptValues.ToText(value)}");
        }
        return (int)number;
    }

    private string Name(JsValue[] arguments, string function)
    {
        var name = arguments.At(0);
        return name.IsString() && name.AsString().Length > 0
            ? name.AsString()
            : throw TypeError($"{function}: the name must be a non-empty string");
    }

    private string HeaderName(JsValue[] arguments, string function)
    {
        var name = Name(arguments, function);
        return HttpTokens.IsToken(name) ? name : throw TypeError($"{function}: '{name}' is not a valid header name");
    }

    private string HeaderValue(JsValue value, string function)
    {
        if (value.IsUndefined())
        {
            throw TypeError($"{function}: a value is required");
        }
        var text = ScriptValues.ToText(value);
        return text.AsSpan().IndexOfAny('\r', '\n', '\0') < 0
            ? text
            : throw TypeError($"{function}: header values cannot contain CR, LF or NUL");
    }

    private JavaScriptException TypeError(string message) => new(_engine.Intrinsics.TypeError, message);

    private static JsBoolean Boolean(bool value) => value ? JsBoolean.True : JsBoolean.False;

    private JsObject NewObject() => new(_engine);

    private static void Data(JsObject target, string name, JsValue value) =>
        target.FastSetProperty(name, new PropertyDescriptor(value, writable: false, enumerable: true, configurable: false));

    private void Method(JsObject target, string name, int length, Func<JsValue[], JsValue> body) =>
        target.FastSetProperty(name, new PropertyDescriptor(
            new ClrFunction(_engine, name, (_, arguments) => body(arguments), length),
            writable: false, enumerable: false, configurable: false));

    private void Accessor(JsObject target, string name, Func<JsValue> get, Action<JsValue>? set = null) =>
        target.FastSetProperty(name, new GetSetPropertyDescriptor(
            new ClrFunction(_engine, "get " + name, (_, _) => get()),
            set is null ? null : new ClrFunction(_engine, "set " + name, (_, arguments) =>
            {
                set(arguments.At(0));
                return JsValue.Undefined;
            }, 1),
            enumerable: true,
            configurable: false));

    private static partial class Log
    {
        [LoggerMessage(EventIds.ScriptMessage, LogLevel.Information, "{Script} (route {Route}): {Message}")]
        public static partial void ScriptMessage(ILogger logger, string script, string route, string message);
    }
}

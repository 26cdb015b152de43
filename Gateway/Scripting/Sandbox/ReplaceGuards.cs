using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Native.Symbol;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace Gateway.Scripting.Sandbox;

/// <summary>
/// <c>String.prototype.replace</c>, <c>replaceAll</c> and <c>RegExp.prototype[Symbol.replace]</c>: a replacement
/// string is copied once per match, and <c>$`</c> or <c>$'</c> copy up to the whole input each time, so one call on a
/// string of a million characters could build terabytes. A string search's result length is computed exactly before
/// the built-in runs; a regular expression's replacement is made by a function that counts what it produces.
/// </summary>
internal sealed class ReplaceGuards(Engine engine, CallBounds bounds)
{
    // Up to this many characters, a replacement without $ references goes to the native code unguarded: even a match at
    // every position of the longest string the memory bound allows makes a result at most nine times the bound.
    private const int ShortReplacement = 8;

    public void Install()
    {
        var strings = SandboxBuiltIns.PrototypeOf(engine, "String");
        var replace = strings.Get("replace");
        SandboxBuiltIns.Replace(engine, strings, "replace", "replace", 2, (thisValue, arguments) => StringReplace(replace, all: false, thisValue, arguments));
        var replaceAll = strings.Get("replaceAll");
        SandboxBuiltIns.Replace(engine, strings, "replaceAll", "replaceAll", 2, (thisValue, arguments) => StringReplace(replaceAll, all: true, thisValue, arguments));

        var regExps = SandboxBuiltIns.PrototypeOf(engine, "RegExp");
        var symbolReplace = regExps.Get(GlobalSymbolRegistry.Replace);
        SandboxBuiltIns.Replace(engine, regExps, GlobalSymbolRegistry.Replace, "[Symbol.replace]", 2, (thisValue, arguments) => RegExpReplace(symbolReplace, thisValue, arguments));
    }

    // ECMA-262 §22.1.3.19 and §22.1.3.20: an object with a Symbol.replace method (a RegExp: the guarded one below)
    // replaces by it; otherwise the search value is a string. Done here, step by step, so that an object without the
    // method cannot take the native string path.
    private JsValue StringReplace(JsValue original, bool all, JsValue thisValue, JsValue[] arguments)
    {
        var searchValue = arguments.At(0);
        var replaceValue = arguments.At(1);
        if (thisValue.IsNull() || thisValue.IsUndefined())
        {
            return engine.Call(original, thisValue, arguments);
        }
        if (searchValue is ObjectInstance searchObject)
        {
            if (all && searchObject.IsRegExp())
            {
                var flags = searchObject.Get("flags");
                if (flags.IsNull() || flags.IsUndefined() || !TypeConverter.ToString(flags).Contains('g'))
                {
                    throw new JavaScriptException(engine.Intrinsics.TypeError, "replaceAll must be called with a global RegExp");
                }
            }
            var replacer = searchObject.Get(GlobalSymbolRegistry.Replace);
            if (!replacer.IsNull() && !replacer.IsUndefined())
            {
                return replacer.IsCallable()
                    ? engine.Call(replacer, searchObject, [thisValue, replaceValue])
                    : throw new JavaScriptException(engine.Intrinsics.TypeError, "Symbol.replace is not a function");
            }
        }
        var text = TypeConverter.ToString(thisValue);
        var search = TypeConverter.ToString(searchValue);
        if (replaceValue.IsCallable())
        {
            // Each replacement is a script call, bounded like any.
            return engine.Call(original, new JsString(text), [new JsString(search), replaceValue]);
        }
        var template = TypeConverter.ToString(replaceValue);
        if (!template.Contains('$') && (!all || template.Length <= search.Length))
        {
            // One match, or every match made no longer: the result is no larger than the strings it is made of.
            return engine.Call(original, new JsString(text), [new JsString(search), new JsString(template)]);
        }
        var substitution = new Substitution(template, captureCount: 0, hasGroups: false);
        var builtIn = all ? "String.prototype.replaceAll" : "String.prototype.replace";
        double length = text.Length;
        var position = text.IndexOf(search, StringComparison.Ordinal);
        while (position >= 0)
        {
            length += substitution.Length(search, position, text, captures: [], groups: null) - search.Length;
            if (!all)
            {
                break;
            }
            var next = position + Math.Max(search.Length, 1);
            position = next > text.Length ? -1 : text.IndexOf(search, next, StringComparison.Ordinal);
        }
        bounds.EnsureRoomForString(length, builtIn);
        return engine.Call(original, new JsString(text), [new JsString(search), new JsString(template)]);
    }

    // ECMA-262 §22.2.6.11. A replacement string is applied by a function (§22.1.3.19.1's substitution), so the
    // characters it produces are counted per match rather than after the whole result is built.
    private JsValue RegExpReplace(JsValue original, JsValue thisValue, JsValue[] arguments)
    {
        if (thisValue is not ObjectInstance || arguments.At(1).IsCallable())
        {
            return engine.Call(original, thisValue, arguments);
        }
        var text = TypeConverter.ToString(arguments.At(0));
        var template = TypeConverter.ToString(arguments.At(1));
        if (!template.Contains('$') && template.Length <= ShortReplacement)
        {
            return engine.Call(original, thisValue, [new JsString(text), new JsString(template)]);
        }
        double produced = 0;
        Substitution? substitution = null;
        var substitute = new ClrFunction(engine, "", (_, match) =>
        {
            // (matched, ...captures, position, string[, groups]): one regular expression's matches share their shape.
            var groups = match.At(match.Length - 1) as ObjectInstance;
            var captureCount = Math.Max(match.Length - (groups is null ? 3 : 4), 0);
            substitution ??= new Substitution(template, captureCount, groups is not null);
            var matched = TypeConverter.ToString(match.At(0));
            var position = (int)Math.Clamp(TypeConverter.ToIntegerOrInfinity(match.At(captureCount + 1)), 0, text.Length);
            var captures = match.AsSpan(1, captureCount);
            produced += substitution.Length(matched, position, text, captures, groups);
            bounds.EnsureRoomForString(text.Length + produced, "RegExp.prototype[Symbol.replace]");
            return new JsString(substitution.Build(matched, position, text, captures, groups));
        }, 2);
        return engine.Call(original, thisValue, [new JsString(text), substitute]);
    }
}

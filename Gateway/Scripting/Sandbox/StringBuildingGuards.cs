using System.Text;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;

namespace Gateway.Scripting.Sandbox;

/// <summary>
/// Built-ins whose result is as long as an argument says (<c>repeat</c>, <c>padStart</c>, <c>padEnd</c>) or as long as
/// all their parts together (<c>concat</c>, <c>String.raw</c>, <c>Array.prototype.join</c> and <c>toLocaleString</c>):
/// the native versions build the whole string in one step, so a call could allocate gigabytes between two of the
/// engine's memory checks. These check the size against what the call has left before building anything.
/// </summary>
internal sealed class StringBuildingGuards(Engine engine, CallBounds bounds)
{
    // Arrays being joined, so that an array containing itself joins to "" as the native join does.
    private readonly HashSet<ObjectInstance> _joining = new(ReferenceEqualityComparer.Instance);

    public void Install()
    {
        var strings = SandboxBuiltIns.PrototypeOf(engine, "String");
        var repeat = strings.Get("repeat");
        SandboxBuiltIns.Replace(engine, strings, "repeat", "repeat", 1, (thisValue, arguments) => Repeat(repeat, thisValue, arguments));
        var padStart = strings.Get("padStart");
        SandboxBuiltIns.Replace(engine, strings, "padStart", "padStart", 1, (thisValue, arguments) => Pad(padStart, "String.prototype.padStart", thisValue, arguments));
        var padEnd = strings.Get("padEnd");
        SandboxBuiltIns.Replace(engine, strings, "padEnd", "padEnd", 1, (thisValue, arguments) => Pad(padEnd, "String.prototype.padEnd", thisValue, arguments));
        var concat = strings.Get("concat");
        SandboxBuiltIns.Replace(engine, strings, "concat", "concat", 1, (thisValue, arguments) => Concat(concat, thisValue, arguments));
        SandboxBuiltIns.Replace(engine, engine.Global.Get("String").AsObject(), "raw", "raw", 1, (_, arguments) => Raw(arguments));

        var arrays = SandboxBuiltIns.PrototypeOf(engine, "Array");
        var join = arrays.Get("join");
        SandboxBuiltIns.Replace(engine, arrays, "join", "join", 1, (thisValue, arguments) => Join(join, thisValue, arguments));
        var toLocaleString = arrays.Get("toLocaleString");
        SandboxBuiltIns.Replace(engine, arrays, "toLocaleString", "toLocaleString", 0, (thisValue, arguments) => ToLocaleString(toLocaleString, thisValue, arguments));
    }

    private JsValue Repeat(JsValue original, JsValue thisValue, JsValue[] arguments)
    {
        if (thisValue.IsNull() || thisValue.IsUndefined())
        {
            return engine.Call(original, thisValue, arguments);
        }
        var text = TypeConverter.ToString(thisValue);
        var count = TypeConverter.ToIntegerOrInfinity(arguments.At(0));
        if (count > 0 && !double.IsInfinity(count) && text.Length > 0)
        {
            bounds.EnsureRoomForString(count * text.Length, "String.prototype.repeat");
        }
        // Coerced once here; the built-in gets primitives, so a toString or valueOf does not run twice.
        return engine.Call(original, new JsString(text), [new JsNumber(count)]);
    }

    private JsValue Pad(JsValue original, string builtIn, JsValue thisValue, JsValue[] arguments)
    {
        if (thisValue.IsNull() || thisValue.IsUndefined())
        {
            return engine.Call(original, thisValue, arguments);
        }
        var text = TypeConverter.ToString(thisValue);
        var maxLength = TypeConverter.ToLength(arguments.At(0));
        var fill = arguments.At(1).IsUndefined() ? null : TypeConverter.ToString(arguments.At(1));
        if (maxLength > (ulong)text.Length && fill is not { Length: 0 })
        {
            bounds.EnsureRoomForString(maxLength, builtIn);
        }
        return engine.Call(original, new JsString(text), [new JsNumber(maxLength), fill is null ? JsValue.Undefined : new JsString(fill)]);
    }

    private JsValue Concat(JsValue original, JsValue thisValue, JsValue[] arguments)
    {
        if (thisValue.IsNull() || thisValue.IsUndefined())
        {
            return engine.Call(original, thisValue, arguments);
        }
        var parts = new string[arguments.Length + 1];
        parts[0] = TypeConverter.ToString(thisValue);
        double length = parts[0].Length;
        for (var i = 0; i < arguments.Length; i++)
        {
            parts[i + 1] = TypeConverter.ToString(arguments[i]);
            length += parts[i + 1].Length;
        }
        bounds.EnsureRoomForString(length, "String.prototype.concat");
        return new JsString(string.Concat(parts));
    }

    // String.raw(template, ...substitutions), as ECMA-262 §22.1.2.4 defines it.
    private JsValue Raw(JsValue[] arguments)
    {
        var literals = ToObject(ToObject(arguments.At(0)).Get("raw"));
        var count = TypeConverter.ToLength(literals.Get("length"));
        var result = new StringBuilder();
        for (ulong index = 0; index < count; index++)
        {
            Append(result, TypeConverter.ToString(literals.Get(new JsNumber(index))), "String.raw", index);
            if (index + 1 < count && index + 1 < (ulong)arguments.Length)
            {
                Append(result, TypeConverter.ToString(arguments[(int)index + 1]), "String.raw", index);
            }
        }
        return new JsString(result.ToString());
    }

    // Array.prototype.join (ECMA-262 §23.1.3.18).
    private JsValue Join(JsValue original, JsValue thisValue, JsValue[] arguments)
    {
        if (thisValue.IsNull() || thisValue.IsUndefined())
        {
            return engine.Call(original, thisValue, arguments);
        }
        var array = ToObject(thisValue);
        var length = TypeConverter.ToLength(array.Get("length"));
        var separator = arguments.At(0).IsUndefined() ? "," : TypeConverter.ToString(arguments.At(0));
        return JoinElements(array, length, separator, "Array.prototype.join", TypeConverter.ToString);
    }

    // Array.prototype.toLocaleString (ECMA-402 §19.5.1): each element's own toLocaleString, joined with ",".
    private JsValue ToLocaleString(JsValue original, JsValue thisValue, JsValue[] arguments)
    {
        if (thisValue.IsNull() || thisValue.IsUndefined())
        {
            return engine.Call(original, thisValue, arguments);
        }
        var array = ToObject(thisValue);
        var length = TypeConverter.ToLength(array.Get("length"));
        JsValue[] forwarded = [arguments.At(0), arguments.At(1)];
        return JoinElements(array, length, ",", "Array.prototype.toLocaleString", element =>
        {
            var method = ToObject(element).Get("toLocaleString", element);
            if (!method.IsCallable())
            {
                throw new JavaScriptException(engine.Intrinsics.TypeError, "toLocaleString is not a function");
            }
            return TypeConverter.ToString(engine.Call(method, element, forwarded));
        });
    }

    private JsValue JoinElements(ObjectInstance array, ulong length, string separator, string builtIn, Func<JsValue, string> text)
    {
        if (length == 0 || !_joining.Add(array))
        {
            return JsString.Empty;
        }
        try
        {
            var result = new StringBuilder();
            for (ulong index = 0; index < length; index++)
            {
                if (index > 0)
                {
                    Append(result, separator, builtIn, index);
                }
                var element = array.Get(new JsNumber(index));
                if (!element.IsNull() && !element.IsUndefined())
                {
                    Append(result, text(element), builtIn, index);
                }
            }
            return new JsString(result.ToString());
        }
        finally
        {
            _joining.Remove(array);
        }
    }

    private void Append(StringBuilder result, string part, string builtIn, ulong index)
    {
        if (part.Length > 0)
        {
            bounds.EnsureRoomForString((double)result.Length + part.Length, builtIn);
            result.Append(part);
        }
        // A loop over a length the script set (a sparse array of 2^32-1 holes) must still meet the time bound.
        if (index % 4096 == 4095)
        {
            engine.Constraints.Check();
        }
    }

    private ObjectInstance ToObject(JsValue value)
    {
        if (value.IsNull() || value.IsUndefined())
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError, "Cannot convert undefined or null to object");
        }
        return value as ObjectInstance ?? engine.Intrinsics.Object.Call(JsValue.Undefined, [value]).AsObject();
    }
}

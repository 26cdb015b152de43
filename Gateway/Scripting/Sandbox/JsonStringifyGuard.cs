using System.Numerics;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace Gateway.Scripting.Sandbox;

/// <summary>
/// <c>JSON.stringify</c>: one call serializes a whole graph, and a graph reaches the same large string as often as it
/// likes (an array of 100,000 references to one megabyte) or indents deep nesting quadratically. The native serializer
/// is given a replacer function that adds up how long each value will be once written, before it is written, and stops
/// the call when the total would not fit; the script's own replacer, function or property list, still applies.
/// </summary>
internal sealed class JsonStringifyGuard
{
    private readonly Engine _engine;
    private readonly CallBounds _bounds;
    private readonly JsValue _isArray;

    // The runtime types of String, Number, Boolean and BigInt objects, which serialize as their primitive value.
    private readonly Type _stringObjectType;
    private readonly Type _numberObjectType;
    private readonly HashSet<Type> _wrapperTypes;

    // JSON.rawJSON's objects, which serialize as the text they hold.
    private readonly Type _rawJsonType;

    public JsonStringifyGuard(Engine engine, CallBounds bounds)
    {
        _engine = engine;
        _bounds = bounds;
        _isArray = engine.Global.Get("Array").AsObject().Get("isArray");
        _stringObjectType = engine.Construct(engine.Global.Get("String"), JsString.Empty).GetType();
        _numberObjectType = engine.Construct(engine.Global.Get("Number"), new JsNumber(0)).GetType();
        _wrapperTypes =
        [
            _stringObjectType,
            _numberObjectType,
            engine.Construct(engine.Global.Get("Boolean"), JsBoolean.False).GetType(),
            engine.Intrinsics.Object.Call(JsValue.Undefined, [new JsBigInt(BigInteger.Zero)]).GetType(),
        ];
        _rawJsonType = engine.Call(engine.Global.Get("JSON").AsObject().Get("rawJSON"), JsValue.Undefined, [new JsString("0")]).GetType();
    }

    public void Install()
    {
        var json = _engine.Global.Get("JSON").AsObject();
        var stringify = json.Get("stringify");
        SandboxBuiltIns.Replace(_engine, json, "stringify", "stringify", 3, (_, arguments) => Stringify(stringify, arguments));
    }

    private JsValue Stringify(JsValue original, JsValue[] arguments)
    {
        var replacer = arguments.At(1);
        var propertyList = replacer.IsCallable() ? null : PropertyList(replacer);
        var gap = Gap(arguments.At(2));
        var estimate = new Estimate(this, replacer.IsCallable() ? replacer : null, propertyList, gap.Length);
        return _engine.Call(original, JsValue.Undefined, [arguments.At(0), new ClrFunction(_engine, "", estimate.Visit, 2), new JsString(gap)]);
    }

    // ECMA-262 §25.5.2.1 step 4.b: the keys an array replacer lists.
    private List<string>? PropertyList(JsValue replacer)
    {
        if (replacer is not ObjectInstance list || !IsArray(list))
        {
            return null;
        }
        var keys = new List<string>();
        var length = TypeConverter.ToLength(list.Get("length"));
        for (ulong index = 0; index < length; index++)
        {
            var item = list.Get(new JsNumber(index));
            string? key = item.IsString() || item.IsNumber() ? TypeConverter.ToString(item)
                : item is ObjectInstance && IsStringOrNumberObject(item) ? TypeConverter.ToString(item)
                : null;
            if (key is not null && !keys.Contains(key))
            {
                keys.Add(key);
            }
        }
        return keys;
    }

    // ECMA-262 §25.5.2.1 steps 5–8.
    private string Gap(JsValue space)
    {
        if (space is ObjectInstance && IsStringOrNumberObject(space))
        {
            space = space.GetType() == _stringObjectType ? new JsString(TypeConverter.ToString(space)) : new JsNumber(TypeConverter.ToNumber(space));
        }
        if (space.IsNumber())
        {
            var width = Math.Min(10, TypeConverter.ToIntegerOrInfinity(space));
            return width < 1 ? string.Empty : new string(' ', (int)width);
        }
        return space.IsString() ? space.AsString()[..Math.Min(10, space.AsString().Length)] : string.Empty;
    }

    private bool IsStringOrNumberObject(JsValue value) => value.GetType() == _stringObjectType || value.GetType() == _numberObjectType;

    // Array.isArray, which sees through a Proxy as the serializer does; asked only of what is neither an array nor a
    // plain object, so an ordinary body costs no call into the engine per object.
    private bool IsArray(JsValue value) =>
        value is JsArray || (value.GetType() != typeof(JsObject) && TypeConverter.ToBoolean(_engine.Call(_isArray, JsValue.Undefined, [value])));

    // What one serialization has written so far, as an upper bound in characters.
    private sealed class Estimate(JsonStringifyGuard guard, JsValue? replacer, List<string>? propertyList, int gap)
    {
        // Each object or array returned so far: how deep its members are written, and whether it is an array.
        private readonly Dictionary<ObjectInstance, (int Depth, bool IsArray)> _containers = new(ReferenceEqualityComparer.Instance);
        private double _length;

        // Called by the serializer as its replacer: with the object holding the value, the key, and the value.
        public JsValue Visit(JsValue holder, JsValue[] arguments)
        {
            var key = arguments.At(0);
            var value = arguments.At(1);
            if (replacer is not null)
            {
                value = guard._engine.Call(replacer, holder, [key, value]);
            }
            if (value is ObjectInstance && value.GetType() == guard._stringObjectType)
            {
                // The serializer would write the String object's text; taking it here lets it be counted.
                value = new JsString(TypeConverter.ToString(value));
            }
            else if (propertyList is not null && value is ObjectInstance candidate && !value.IsCallable()
                && !guard._wrapperTypes.Contains(value.GetType()) && value.GetType() != guard._rawJsonType && !guard.IsArray(value))
            {
                value = Filter(candidate, propertyList);
            }

            // The holder is the object being written, one level up; the serializer's own root wrapper is unknown here.
            var level = 0;
            if (holder is ObjectInstance parent && _containers.TryGetValue(parent, out var container))
            {
                level = container.Depth;
                var indent = gap > 0 ? 1 + (double)gap * level : 0;
                _length += container.IsArray ? 1 + indent : Escaped(TypeConverter.ToString(key)) + 2 + 1 + (gap > 0 ? 1 : 0) + 1 + indent;
            }
            _length += value switch
            {
                JsString text => Escaped(text.ToString()) + 2,
                JsNumber => 25,
                ObjectInstance when value.IsCallable() => 4,
                ObjectInstance raw when raw.GetType() == guard._rawJsonType => TypeConverter.ToString(raw.Get("rawJSON")).Length,
                ObjectInstance instance => Container(instance, level),
                _ => 5,
            };
            guard._bounds.EnsureRoomForString(_length, "JSON.stringify");
            return value;
        }

        private double Container(ObjectInstance instance, int level)
        {
            _containers[instance] = (level + 1, guard.IsArray(instance));
            return 2 + (gap > 0 ? 1 + (double)gap * level : 0);
        }

        // An array replacer's keys, read in its order, as the serializer would read them.
        private JsObject Filter(ObjectInstance source, List<string> keys)
        {
            var filtered = new JsObject(guard._engine);
            foreach (var key in keys)
            {
                filtered.FastSetDataProperty(key, source.Get(key));
            }
            return filtered;
        }

        // Characters a string takes quoted in JSON, less the quotes: escapes widen some characters.
        private static double Escaped(string text)
        {
            double length = text.Length;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c is '"' or '\\')
                {
                    length += 1;
                }
                else if (c < 0x20)
                {
                    length += 5;
                }
                else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                }
                else if (char.IsSurrogate(c))
                {
                    length += 5;
                }
            }
            return length;
        }
    }
}

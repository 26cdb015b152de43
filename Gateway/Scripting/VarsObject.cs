using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;

namespace Gateway.Scripting;

/// <summary>
/// <c>ctx.vars</c>: a live view of the request's <see cref="Gateway.Plugins.PluginContext.Vars"/>, the bag C# stages
/// read and write, so values cross in both directions without copying the bag per call.
/// </summary>
internal sealed class VarsObject(Engine engine, ScriptCall call) : ObjectInstance(engine)
{
    private IDictionary<string, object?> Bag => call.Context.Vars;

    public override JsValue Get(JsValue property, JsValue receiver) =>
        property.IsString() && Bag.TryGetValue(property.AsString(), out var value)
            ? ScriptValues.ToScript(value)
            : base.Get(property, receiver);

    public override bool Set(JsValue property, JsValue value, JsValue receiver)
    {
        if (!property.IsString())
        {
            return false;
        }
        if (!ScriptValues.TryFromScript(value, out var converted))
        {
            throw new JavaScriptException(Engine.Intrinsics.TypeError, $"ctx.vars.{property.AsString()}: vars hold strings, numbers, booleans and null, not {value.Type.ToString().ToLowerInvariant()}s");
        }
        Bag[property.AsString()] = converted;
        return true;
    }

    public override bool HasProperty(JsValue property) =>
        property.IsString() && Bag.ContainsKey(property.AsString()) || base.HasProperty(property);

    public override bool Delete(JsValue property)
    {
        if (property.IsString())
        {
            Bag.Remove(property.AsString());
        }
        return true;
    }

    public override List<JsValue> GetOwnPropertyKeys(Types types = Types.String | Types.Symbol)
    {
        var keys = new List<JsValue>(Bag.Count);
        if ((types & Types.String) != 0)
        {
            foreach (var key in Bag.Keys)
            {
                keys.Add(new JsString(key));
            }
        }
        return keys;
    }

    public override PropertyDescriptor GetOwnProperty(JsValue property) =>
        property.IsString() && Bag.TryGetValue(property.AsString(), out var value)
            ? new PropertyDescriptor(ScriptValues.ToScript(value), writable: true, enumerable: true, configurable: true)
            : PropertyDescriptor.Undefined;

    // Object.defineProperty and Object.freeze would otherwise store values beside the bag, where no stage sees them.
    public override bool DefineOwnProperty(JsValue property, PropertyDescriptor desc) =>
        desc.IsDataDescriptor() && Set(property, desc.Value, this);

    public override bool PreventExtensions() => false;
}

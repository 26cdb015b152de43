using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Gateway.Scripting.Sandbox;

/// <summary>
/// Shapes a fresh engine's built-ins before a script runs: takes away what a hook has no use for and what could
/// allocate without bound or carry state between requests, and puts size-checked versions in front of the built-ins
/// whose result size an argument or a count of parts decides.
/// </summary>
internal static class SandboxBuiltIns
{
    // Binary buffers (nothing in ctx produces or takes bytes, and one constructor call allocates whatever length it is
    // given), weak references and finalizers (their callbacks would run inside a later request), and realms (a fresh,
    // unfrozen set of built-ins).
    private static readonly string[] RemovedGlobals =
    [
        "ArrayBuffer", "SharedArrayBuffer", "DataView", "Atomics", "TypedArray",
        "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
        "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
        "WeakRef", "FinalizationRegistry", "ShadowRealm",
    ];

    // The legacy RegExp statics hold the engine's last match, whoever made it: one request's header would be the next
    // request's RegExp.$1.
    private static readonly string[] LegacyRegExpStatics =
    [
        "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9",
        "input", "$_", "lastMatch", "$&", "lastParen", "$+", "leftContext", "$`", "rightContext", "$'",
    ];

    public static void Install(Engine engine, CallBounds bounds)
    {
        foreach (var name in RemovedGlobals)
        {
            Remove(engine.Global, name);
        }
        var regExp = engine.Global.Get("RegExp").AsObject();
        foreach (var name in LegacyRegExpStatics)
        {
            Remove(regExp, name);
        }
        // A list format joins any number of strings in one call, as Array.prototype.join does.
        Remove(engine.Global.Get("Intl").AsObject(), "ListFormat");

        new StringBuildingGuards(engine, bounds).Install();
        new ReplaceGuards(engine, bounds).Install();
        new JsonStringifyGuard(engine, bounds).Install();
    }

    /// <summary>The <c>prototype</c> of the global constructor <paramref name="constructor"/>.</summary>
    internal static ObjectInstance PrototypeOf(Engine engine, string constructor) =>
        engine.Global.Get(constructor).AsObject().Get("prototype").AsObject();

    /// <summary>Puts <paramref name="replacement"/> where a built-in method was, with the built-in's name and length.</summary>
    internal static void Replace(Engine engine, ObjectInstance owner, JsValue key, string name, int length, Func<JsValue, JsValue[], JsValue> replacement) =>
        owner.DefineOwnProperty(key, new PropertyDescriptor(
            new ClrFunction(engine, name, replacement, length, PropertyFlag.Configurable),
            writable: true, enumerable: false, configurable: true));

    private static void Remove(ObjectInstance owner, string name)
    {
        if (owner.HasOwnProperty(name) && !owner.Delete(name))
        {
            throw new InvalidOperationException($"The sandbox could not remove the built-in '{name}'.");
        }
    }
}

using Jint;
using Jint.Native;
using Jint.Native.Object;

namespace Gateway.Scripting;

/// <summary>
/// Freezes everything a script can reach from its globals, built-ins included, once its top level has run: after
/// that a request can only read what the script set up, so it cannot leave anything behind for the next one.
/// </summary>
internal static class Lockdown
{
    /// <summary>Freezes the roots and every object reachable from them through properties and prototypes.</summary>
    /// <remarks>One walk for all roots: each reaches the built-ins through its prototypes, which are visited once.</remarks>
    public static void DeepFreeze(Engine engine, params ReadOnlySpan<JsValue> roots)
    {
        var freeze = engine.Intrinsics.Object.Get("freeze");
        var arguments = new JsValue[1];
        var seen = new HashSet<ObjectInstance>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<ObjectInstance>();
        foreach (var root in roots)
        {
            Push(root, seen, pending);
        }
        while (pending.TryPop(out var current))
        {
            arguments[0] = current;
            engine.Call(freeze, JsValue.Undefined, arguments);
            foreach (var key in current.GetOwnPropertyKeys())
            {
                var descriptor = current.GetOwnProperty(key);
                if (descriptor.IsAccessorDescriptor())
                {
                    Push(descriptor.Get, seen, pending);
                    Push(descriptor.Set, seen, pending);
                }
                else
                {
                    Push(descriptor.Value, seen, pending);
                }
            }
            Push(current.Prototype, seen, pending);
        }
    }

    private static void Push(JsValue? value, HashSet<ObjectInstance> seen, Stack<ObjectInstance> pending)
    {
        if (value is ObjectInstance instance && seen.Add(instance))
        {
            pending.Push(instance);
        }
    }
}

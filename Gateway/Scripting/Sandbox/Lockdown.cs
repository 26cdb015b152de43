using Acornima.Ast;
using Jint;
using Jint.Native;
using Jint.Native.Object;

namespace Gateway.Scripting.Sandbox;

/// <summary>
/// Freezes everything a script can reach once its top level has run: the globals, every built-in, the built-ins only
/// reachable through an instance (iterator and async function prototypes), the script's constants and <c>ctx</c>. After
/// that a request can only read what the script set up, so it cannot leave anything behind for the next one.
/// </summary>
/// <remarks>
/// Two kinds of object stay live, by design: <c>ctx.vars</c>, which is a view of the request's own bag, and a global or
/// sticky regular expression's <c>lastIndex</c>, which the built-ins write on every match; the engine sets those back
/// to 0 before each call (<see cref="Frozen.ResetRegExps"/>).
/// </remarks>
internal static class Lockdown
{
    // Intrinsics no property path reaches: only an instance made by syntax or a built-in leads to them.
    private static readonly Prepared<Script> HiddenIntrinsics = Engine.PrepareScript("""
        (() => {
          const of = Object.getPrototypeOf;
          const found = [
            of([][Symbol.iterator]()),
            of(new Map()[Symbol.iterator]()),
            of(new Set()[Symbol.iterator]()),
            of(''[Symbol.iterator]()),
            of(''.matchAll(/(?:)/g)),
            of(function* () {}),
            of(async function () {}),
            of(async function* () {}),
            of([].values().map(x => x)),
            of(Iterator.from({ next() { return { done: true }; } })),
            Object.getOwnPropertyDescriptor(Function.prototype, 'caller').get,
          ];
          const segments = new Intl.Segmenter().segment('');
          found.push(of(segments), of(segments[Symbol.iterator]()));
          return found;
        })()
        """, "(sandbox)", strict: true);

    /// <summary>Freezes the built-ins, the roots and every object reachable from them through properties and prototypes.</summary>
    /// <remarks>One walk for all roots: each reaches the built-ins through its prototypes, which are visited once.</remarks>
    public static Frozen DeepFreeze(Engine engine, params ReadOnlySpan<JsValue> roots)
    {
        var freeze = engine.Intrinsics.Object.Get("freeze");
        var preventExtensions = engine.Intrinsics.Object.Get("preventExtensions");
        var arguments = new JsValue[1];
        var seen = new HashSet<ObjectInstance>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<ObjectInstance>();
        var regExps = new List<JsRegExp>();
        Push(engine.Global, seen, pending);
        foreach (var intrinsic in engine.Evaluate(HiddenIntrinsics).AsArray())
        {
            Push(intrinsic, seen, pending);
        }
        foreach (var root in roots)
        {
            Push(root, seen, pending);
        }
        while (pending.TryPop(out var current))
        {
            if (current is VarsObject)
            {
                continue;
            }
            arguments[0] = current;
            if (current is JsRegExp { Global: true } or JsRegExp { Sticky: true })
            {
                // Its lastIndex stays writable: freezing it would make every match throw. It is reset per call.
                engine.Call(preventExtensions, JsValue.Undefined, arguments);
                regExps.Add((JsRegExp)current);
            }
            else
            {
                engine.Call(freeze, JsValue.Undefined, arguments);
            }
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
        return new Frozen([.. regExps]);
    }

    private static void Push(JsValue? value, HashSet<ObjectInstance> seen, Stack<ObjectInstance> pending)
    {
        if (value is ObjectInstance instance && seen.Add(instance))
        {
            pending.Push(instance);
        }
    }

    /// <summary>What a freeze left live.</summary>
    internal sealed class Frozen(JsRegExp[] regExps)
    {
        private static readonly JsString LastIndex = new("lastIndex");
        private static readonly JsNumber Zero = new(0);

        /// <summary>Sets every live regular expression's <c>lastIndex</c> back to 0, so no match position crosses requests.</summary>
        public void ResetRegExps()
        {
            foreach (var regExp in regExps)
            {
                regExp.Set(LastIndex, Zero, throwOnError: false);
            }
        }
    }
}

using System.Collections;
using System.ComponentModel;
using System.Reflection;
using System.Reflection.Metadata;
using System.Runtime.Loader;

namespace Gateway.Loading;

/// <summary>
/// Removes a plugin's types from the framework's process-wide reflection caches so its load context can be collected.
/// </summary>
/// <remarks>
/// <see cref="TypeDescriptor"/> keeps strong references to every type it has described (dotnet/runtime#30656,
/// #114620; not fixed in .NET 10.0.12), and Newtonsoft.Json describes every type it serializes, so a plugin using it
/// would otherwise never unload. The public <see cref="TypeDescriptor.Refresh(Assembly)"/> and the framework's own
/// hot-reload cache handlers clear most of it; the rest sits in private fields, reached here by name. Every step is
/// guarded: when a runtime renames a field, the purge does less, the unload test fails, and nothing else breaks.
/// </remarks>
internal static class ReflectionCachePurge
{
    private const BindingFlags StaticMembers = BindingFlags.Static | BindingFlags.NonPublic;
    private const BindingFlags InstanceMembers = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    /// <summary>Purges every cache entry that refers to a type or member loaded into <paramref name="context"/>.</summary>
    /// <returns>The steps that failed, for the log; empty when all ran.</returns>
    public static IReadOnlyList<string> Purge(AssemblyLoadContext context)
    {
        var failures = new List<string>();
        var assemblies = context.Assemblies.ToArray();
        var types = assemblies.SelectMany(LoadableTypes).ToArray();

        Try(failures, "TypeDescriptor.Refresh", () =>
        {
            foreach (var assembly in assemblies)
            {
                TypeDescriptor.Refresh(assembly);
            }
        });
        Try(failures, "metadata update handlers", () => InvokeUpdateHandlers(types));
        Try(failures, "TypeDescriptor private caches", () => PurgeTypeDescriptor(context));
        return failures;
    }

    private static void InvokeUpdateHandlers(Type[] types)
    {
        // The handlers the framework runs on hot reload: System.Text.Json's and TypeDescriptor's type caches.
        foreach (var frameworkAssembly in new[] { typeof(System.Text.Json.JsonSerializer).Assembly, typeof(TypeDescriptor).Assembly })
        {
            foreach (var attribute in frameworkAssembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>())
            {
                attribute.HandlerType.GetMethod("ClearCache", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                    ?.Invoke(null, [types]);
            }
        }
    }

    private static void PurgeTypeDescriptor(AssemblyLoadContext context)
    {
        var descriptor = typeof(TypeDescriptor);
        var reflectProvider = descriptor.Assembly.GetType("System.ComponentModel.ReflectTypeDescriptionProvider", throwOnError: true)!;

        // Providers hang off the nodes of both provider tables; the reflection provider caches per-type data.
        var providers = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var tableName in new[] { "s_providerTypeTable", "s_providerTable" })
        {
            if (descriptor.GetField(tableName, StaticMembers)?.GetValue(null) is IEnumerable table)
            {
                foreach (var node in ValuesOf(table))
                {
                    CollectProviders(node, providers);
                }
            }
        }
        var typeData = reflectProvider.GetField("_typeData", InstanceMembers);
        foreach (var provider in providers)
        {
            if (reflectProvider.IsInstanceOfType(provider) && typeData?.GetValue(provider) is IDictionary data)
            {
                RemoveKeys(data, context);
            }
        }

        foreach (var name in new[] { "s_providerTypeTable", "s_defaultProviderInitialized" })
        {
            if (descriptor.GetField(name, StaticMembers)?.GetValue(null) is IDictionary table)
            {
                RemoveKeys(table, context);
            }
        }
        foreach (var name in new[] { "s_propertyCache", "s_eventCache", "s_attributeCache", "s_extendedPropertyCache" })
        {
            if (reflectProvider.GetField(name, StaticMembers)?.GetValue(null) is IDictionary table)
            {
                lock (table)
                {
                    RemoveKeys(table, context);
                }
            }
        }
    }

    private static void CollectProviders(object? node, HashSet<object> providers)
    {
        // TypeDescriptionNode: a linked list of providers (Provider, Next).
        for (var depth = 0; node is not null && depth < 64; depth++)
        {
            var nodeType = node.GetType();
            if (nodeType.GetField("Provider", InstanceMembers)?.GetValue(node) is { } provider)
            {
                providers.Add(provider);
            }
            node = nodeType.GetField("Next", InstanceMembers)?.GetValue(node);
        }
    }

    private static IEnumerable<object?> ValuesOf(IEnumerable table)
    {
        foreach (var item in table)
        {
            yield return item switch
            {
                DictionaryEntry entry => entry.Value,
                _ => item?.GetType().GetProperty("Value")?.GetValue(item),
            };
        }
    }

    private static void RemoveKeys(IDictionary table, AssemblyLoadContext context)
    {
        var doomed = new List<object>();
        foreach (var key in table.Keys)
        {
            if (BelongsTo(key, context))
            {
                doomed.Add(key);
            }
        }
        foreach (var key in doomed)
        {
            table.Remove(key);
        }
    }

    private static bool BelongsTo(object? key, AssemblyLoadContext context) => key switch
    {
        Type type => AssemblyLoadContext.GetLoadContext(type.Assembly) == context
            || (type.IsGenericType && type.GetGenericArguments().Any(argument => BelongsTo(argument, context))),
        MemberInfo member => AssemblyLoadContext.GetLoadContext(member.Module.Assembly) == context,
        null => false,
        _ => AssemblyLoadContext.GetLoadContext(key.GetType().Assembly) == context,
    };

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }

    private static void Try(List<string> failures, string step, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            failures.Add($"{step}: {ex.GetType().Name}: {ex.Message}");
        }
    }
}

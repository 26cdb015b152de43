using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Gateway.Plugins;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Caching.Distributed;

namespace Gateway.Loading;

/// <summary>Loads <c>plugins/&lt;Name&gt;/&lt;Name&gt;.dll</c> into a new collectible load context.</summary>
/// <remarks>
/// Every load reads the file into memory and gets a fresh context: a file-backed context would keep returning the
/// old code after a redeploy to the same path while any older context is alive (see the folder README).
/// </remarks>
internal static class PluginAssemblyLoader
{
    // The contract and the framework types it exposes must be the host's own, or casts across the boundary fail.
    private static readonly Type[] SharedTypes =
    [
        typeof(IGatewayPlugin),
        typeof(HttpContext),
        typeof(Microsoft.Extensions.Logging.ILogger),
        typeof(IDistributedCache),
    ];

    /// <exception cref="PluginLoadException">The plugin is missing, not a .NET assembly, or has no usable plugin type.</exception>
    public static LoadedPluginAssembly Load(string pluginsPath, string name)
    {
        var path = Path.Combine(pluginsPath, name, name + ".dll");
        if (!File.Exists(path))
        {
            throw new PluginLoadException($"plugin '{name}' was not found: expected the file {path}");
        }

        var loader = PluginLoader.CreateFromAssemblyFile(path, isUnloadable: true, SharedTypes, config => config.LoadInMemory = true);
        try
        {
            var assembly = LoadMainAssembly(loader, path);
            var constructor = FindConstructor(assembly, path);
            RejectThreadStatics(assembly, path);
            return new LoadedPluginAssembly(name, loader, assembly, constructor, HashFolder(Path.GetDirectoryName(path)!));
        }
        catch
        {
            loader.Dispose();
            throw;
        }
    }

    // Every assembly in the plugin's folder, its dependencies included: a changed dependency changes what runs.
    private static string HashFolder(string folder)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(folder, "*.dll").Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            try
            {
                hash.AppendData(File.ReadAllBytes(file));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new PluginLoadException($"{file} could not be read: {ex.Message}", ex);
            }
        }
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static Assembly LoadMainAssembly(PluginLoader loader, string path)
    {
        try
        {
            return loader.LoadDefaultAssembly();
        }
        catch (BadImageFormatException ex)
        {
            throw new PluginLoadException($"{path} is not a .NET assembly", ex);
        }
        catch (Exception ex) when (ex is FileLoadException or FileNotFoundException or IOException)
        {
            throw new PluginLoadException($"{path} could not be loaded: {ex.Message}", ex);
        }
    }

    // The runtime's per-thread cleanup of a collectible assembly's thread statics races its unloading and can kill the
    // process with SIGSEGV (dotnet/runtime#110837): such a plugin would take the gateway down on some later reload.
    private static void RejectThreadStatics(Assembly assembly, string path)
    {
        const BindingFlags Statics = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            // Types that cannot load cannot run either; FindConstructor has already judged the plugin's own.
            types = ex.Types.OfType<Type>().ToArray();
        }
        var fields = types
            .SelectMany(type => type.GetFields(Statics).Where(field => field.IsDefined(typeof(ThreadStaticAttribute), inherit: false))
                .Select(field => $"{type.FullName}.{field.Name}"))
            .ToArray();
        if (fields.Length > 0)
        {
            throw new PluginLoadException(
                $"{path} declares [ThreadStatic] fields ({string.Join(", ", fields)}): thread statics in an unloadable plugin can crash the gateway when the plugin unloads; pool the objects instead");
        }
    }

    private static ConstructorInfo FindConstructor(Assembly assembly, string path)
    {
        Type[] candidates;
        try
        {
            candidates = assembly.GetExportedTypes()
                .Where(type => type is { IsClass: true, IsAbstract: false } && typeof(IGatewayPlugin).IsAssignableFrom(type))
                .ToArray();
        }
        catch (Exception ex) when (ex is ReflectionTypeLoadException or FileNotFoundException or TypeLoadException)
        {
            throw new PluginLoadException($"{path} has types that cannot be loaded (built against another Plugins.Abstractions, or missing a dependency?): {ex.Message}", ex);
        }

        var type = candidates.Length switch
        {
            1 => candidates[0],
            0 => throw new PluginLoadException($"{path} has no public class implementing {nameof(IGatewayPlugin)}"),
            _ => throw new PluginLoadException($"{path} has {candidates.Length} public classes implementing {nameof(IGatewayPlugin)} ({string.Join(", ", candidates.Select(c => c.Name))}); a plugin has exactly one"),
        };
        RejectFilterWithInvoke(type, path);
        return type.GetConstructor([typeof(PluginSetup)])
            ?? type.GetConstructor(Type.EmptyTypes)
            ?? throw new PluginLoadException($"{type.FullName} in {path} needs a public constructor taking {nameof(PluginSetup)}, or none");
    }

    /// <summary>
    /// A filter's steps are <c>OnRequestAsync</c> and <c>OnResponse</c>: on a route of filters the runner calls them
    /// directly and an <c>InvokeAsync</c> of the filter's own would be skipped there but run on mixed routes. Rather than
    /// behave two ways, such a plugin is refused.
    /// </summary>
    internal static void RejectFilterWithInvoke(Type type, string path)
    {
        if (!typeof(IGatewayFilter).IsAssignableFrom(type))
        {
            return;
        }
        var invoke = type.GetInterfaceMap(typeof(IGatewayPlugin)).TargetMethods.Single();
        if (invoke.DeclaringType != typeof(IGatewayFilter))
        {
            throw new PluginLoadException(
                $"{type.FullName} in {path} is an {nameof(IGatewayFilter)} and implements {nameof(IGatewayPlugin.InvokeAsync)} too, which a route of filters never calls: put the work in OnRequestAsync and OnResponse, or implement {nameof(IGatewayPlugin)} alone");
        }
    }
}

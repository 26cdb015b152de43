using System.Reflection;
using System.Runtime.Loader;
using Gateway.Plugins;
using McMaster.NETCore.Plugins;

namespace Gateway.Loading;

/// <summary>
/// One version of one plugin, loaded into its own collectible load context. It lives exactly as long as the
/// pipeline snapshots that use it; disposing it purges the framework's caches and unloads the context.
/// </summary>
internal sealed class LoadedPluginAssembly
{
    private PluginLoader? _loader;
    private ConstructorInfo? _constructor;

    public LoadedPluginAssembly(string name, PluginLoader loader, Assembly assembly, ConstructorInfo constructor, string hash)
    {
        Name = name;
        Hash = hash;
        _loader = loader;
        _constructor = constructor;
        Version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "0.0.0";
        LoadContext = new WeakReference<AssemblyLoadContext>(loader.LoadContext);
    }

    public string Name { get; }

    /// <summary>The assembly's informational version, or its assembly version.</summary>
    public string Version { get; }

    /// <summary>The <c>sha256:</c> of the assemblies in the plugin's folder, as they were loaded.</summary>
    public string Hash { get; }

    /// <summary>Weak, so that holding this object after disposal does not pin the context.</summary>
    public WeakReference<AssemblyLoadContext> LoadContext { get; }

    /// <summary>Runs the plugin's constructor with <paramref name="setup"/> (or none, if it takes none).</summary>
    /// <exception cref="PluginConfigurationException">The plugin rejected its config.</exception>
    /// <exception cref="PluginLoadException">The constructor threw anything else.</exception>
    public IGatewayPlugin CreateInstance(PluginSetup setup)
    {
        var constructor = _constructor ?? throw new ObjectDisposedException(Name);
        try
        {
            var arguments = constructor.GetParameters().Length == 0 ? [] : new object[] { setup };
            return (IGatewayPlugin)constructor.Invoke(arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is PluginConfigurationException config)
        {
            throw config;
        }
        catch (TargetInvocationException ex)
        {
            var inner = ex.InnerException ?? ex;
            throw new PluginLoadException($"the constructor of {constructor.DeclaringType!.FullName} threw {inner.GetType().Name}: {inner.Message}", inner);
        }
    }

    /// <summary>Unloads the context; the caller must have dropped every instance and delegate into the plugin.</summary>
    /// <returns>Purge steps that failed, for the log.</returns>
    public IReadOnlyList<string> Unload()
    {
        var loader = Interlocked.Exchange(ref _loader, null);
        _constructor = null;
        if (loader is null)
        {
            return [];
        }
        var failures = ReflectionCachePurge.Purge(loader.LoadContext);
        loader.Dispose();
        return failures;
    }
}

using System.Collections.Immutable;
using Gateway.Loading;
using Gateway.Plugins;
using Gateway.Scripting;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Pipeline;

/// <summary>
/// Builds a complete snapshot beside the serving one: loads each plugin assembly and compiles each script once,
/// constructs each entry's plugin or warms its script with its config, and either returns the whole snapshot or
/// adds every error to the reload's and leaves nothing loaded.
/// </summary>
internal sealed class PipelineBuilder(IServiceProvider services, ILoggerFactory loggerFactory, TimeProvider time)
{
    private readonly PluginServices _pluginServices = new(services);

    /// <param name="generation">The new snapshot's generation number.</param>
    /// <param name="entries">The entries of the pipeline file; those with errors of their own are checked, not built.</param>
    /// <param name="routes">The proxy configuration's routes, which entries may name; null when it did not validate.</param>
    /// <param name="locations">Where the pipeline file, plugins and scripts are.</param>
    /// <param name="scriptOptions">The bounds scripts run under.</param>
    /// <param name="initializeTimeout">How long each plugin's <see cref="IAsyncInitializable.InitializeAsync"/> may take.</param>
    /// <param name="sourcesHash">The configuration files' part of the snapshot's hash (<see cref="PipelineHash.OfSources"/>).</param>
    /// <param name="errors">The reload's errors so far; this build's are added. Anything in it rejects the build.</param>
    /// <returns>The snapshot; null when the reload has errors, with nothing of the build left loaded.</returns>
    public async Task<PipelineSnapshot?> BuildAsync(
        int generation,
        ImmutableArray<PipelineEntry> entries,
        IReadOnlyList<RouteConfig>? routes,
        PipelineLocations locations,
        ScriptOptions scriptOptions,
        TimeSpan initializeTimeout,
        string sourcesHash,
        List<PipelineError> errors)
    {
        var assemblies = new Dictionary<string, LoadedPluginAssembly>(StringComparer.Ordinal);
        var failedAssemblies = new Dictionary<string, string>(StringComparer.Ordinal);
        var scripts = new ScriptLoader(
            Path.GetDirectoryName(locations.PipelineFile) ?? Environment.CurrentDirectory, locations.ScriptsPath,
            scriptOptions, loggerFactory.CreateLogger("Gateway.Scripts"), time);
        var scriptsCanRun = true;
        if (entries.Any(entry => entry.Enabled && entry.Kind == StageKind.Script))
        {
            foreach (var (setting, problem) in scriptOptions.Problems())
            {
                errors.Add(new PipelineError(ScriptOptions.SectionName, $"{ScriptOptions.SectionName}:{setting}", problem));
                scriptsCanRun = false;
            }
        }
        var knownRoutes = routes?.Select(route => route.RouteId).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var stages = ImmutableArray.CreateBuilder<PipelineStage>();

        foreach (var entry in entries)
        {
            if (knownRoutes is not null)
            {
                CheckRoutes(entry, knownRoutes, errors);
            }
            if (!entry.Enabled || entry.HasOwnErrors || (entry.Kind == StageKind.Script && !scriptsCanRun))
            {
                continue;
            }
            var stage = entry.Kind == StageKind.Script
                ? CreateScriptStage(entry, scripts, errors)
                : CreateStage(entry, locations.PluginsPath, assemblies, failedAssemblies, errors);
            if (stage is not null)
            {
                stages.Add(stage);
            }
        }

        if (errors.Count == 0)
        {
            // Only a pipeline that can serve is started: a rejected one would throw the work away.
            await InitializeAsync(stages, initializeTimeout, errors).ConfigureAwait(false);
        }
        var built = new PipelineSnapshot(generation, time.GetUtcNow(), entries, stages.ToImmutable(), [.. assemblies.Values], routes ?? [], sourcesHash);
        if (errors.Count == 0)
        {
            return built;
        }
        // Nothing of a rejected build may stay loaded: dispose what was constructed and unload what was loaded.
        await built.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    private PipelineStage? CreateStage(
        PipelineEntry entry,
        string pluginsPath,
        Dictionary<string, LoadedPluginAssembly> assemblies,
        Dictionary<string, string> failedAssemblies,
        List<PipelineError> errors)
    {
        if (failedAssemblies.TryGetValue(entry.Name, out var loadError))
        {
            errors.Add(new PipelineError(entry.DisplayName, $"{entry.Path}.plugin", loadError));
            return null;
        }
        if (!assemblies.TryGetValue(entry.Name, out var assembly))
        {
            try
            {
                assembly = PluginAssemblyLoader.Load(pluginsPath, entry.Name);
                assemblies.Add(entry.Name, assembly);
            }
            catch (PluginLoadException ex)
            {
                failedAssemblies.Add(entry.Name, ex.Message);
                errors.Add(new PipelineError(entry.DisplayName, $"{entry.Path}.plugin", ex.Message));
                return null;
            }
        }

        var setup = new PluginSetup(entry.Name, entry.Config, loggerFactory.CreateLogger("Gateway.Plugins." + entry.Name), _pluginServices);
        try
        {
            return new PipelineStage(entry, assembly.CreateInstance(setup), assembly.Version, assembly.Hash);
        }
        catch (PluginConfigurationException ex)
        {
            errors.Add(ConfigError(entry, ex));
        }
        catch (PluginLoadException ex)
        {
            errors.Add(new PipelineError(entry.DisplayName, entry.Path, ex.Message));
        }
        return null;
    }

    // Every plugin at once, each within the timeout: a reload takes as long as its slowest plugin, not their sum.
    private async Task InitializeAsync(IEnumerable<PipelineStage> stages, TimeSpan timeout, List<PipelineError> errors)
    {
        var outcomes = await Task.WhenAll(stages.Where(stage => stage.NeedsInitialization).Select(async stage =>
        {
            using var canceled = new CancellationTokenSource(timeout, time);
            try
            {
                await stage.InitializeAsync(canceled.Token).AsTask().WaitAsync(timeout, time).ConfigureAwait(false);
                return null;
            }
            catch (PluginConfigurationException ex)
            {
                return ConfigError(stage.Entry, ex);
            }
            catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && canceled.IsCancellationRequested))
            {
                return new PipelineError(stage.Entry.DisplayName, stage.Entry.Path, $"did not finish initializing within {timeout.TotalSeconds:0.###} s (Gateway:PluginInitializeTimeout)");
            }
            catch (Exception ex)
            {
                return new PipelineError(stage.Entry.DisplayName, stage.Entry.Path, $"initializing threw {ex.GetType().Name}: {ex.Message}");
            }
        })).ConfigureAwait(false);
        errors.AddRange(outcomes.OfType<PipelineError>());
    }

    private static PipelineError ConfigError(PipelineEntry entry, PluginConfigurationException ex) =>
        new(entry.DisplayName, $"{entry.Path}.config{(ex.Path.StartsWith('$') ? ex.Path[1..] : "." + ex.Path)}", ex.Message);

    private static PipelineStage? CreateScriptStage(PipelineEntry entry, ScriptLoader scripts, List<PipelineError> errors)
    {
        try
        {
            var (plugin, hash) = scripts.Load(entry.Name, entry.Config);
            return new PipelineStage(entry, plugin, version: null, hash);
        }
        catch (ScriptLoadException ex)
        {
            errors.Add(new PipelineError(entry.DisplayName, $"{entry.Path}.script", ex.Message));
            return null;
        }
    }

    private static void CheckRoutes(PipelineEntry entry, IReadOnlySet<string> knownRoutes, List<PipelineError> errors)
    {
        for (var i = 0; i < entry.Routes.Length; i++)
        {
            if (!knownRoutes.Contains(entry.Routes[i]))
            {
                errors.Add(new PipelineError(entry.DisplayName, $"{entry.Path}.routes[{i}]", $"route '{entry.Routes[i]}' is not defined in ReverseProxy:Routes"));
            }
        }
    }
}

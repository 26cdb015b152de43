using System.Collections.Immutable;
using Microsoft.Extensions.Options;

namespace Gateway.Pipeline;

/// <summary>
/// Re-reads the configuration, <c>plugins.json</c> and the plugin folder, builds the next snapshot beside the serving
/// one and swaps it in. Reloads run one at a time; a rejected one changes nothing.
/// </summary>
internal sealed partial class PipelineReloader(
    PipelineHolder holder,
    PipelineBuilder builder,
    IConfiguration configuration,
    IOptionsMonitor<GatewayOptions> options,
    ILogger<PipelineReloader> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _generation;

    /// <summary>Reloads; the result carries the new snapshot or the errors that rejected it.</summary>
    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Picks up edits to appsettings.json, including the ReverseProxy routes and clusters YARP serves.
            (configuration as IConfigurationRoot)?.Reload();
            var current = options.CurrentValue;
            var pipelineFile = GatewayOptions.Resolve(current.PipelineFile);

            var entries = PipelineFileReader.ReadFile(pipelineFile, Environment.GetEnvironmentVariable);
            var locations = new PipelineLocations(pipelineFile, GatewayOptions.Resolve(current.PluginsPath), GatewayOptions.Resolve(current.ScriptsPath));
            var snapshot = await builder.BuildAsync(_generation + 1, entries, KnownRoutes(), locations).ConfigureAwait(false);
            _generation = snapshot.Generation;
            holder.Swap(snapshot);
            Log.Loaded(logger, snapshot.Generation, snapshot.Stages.Length, pipelineFile);
            return ReloadResult.Success(snapshot);
        }
        catch (PipelineDefinitionException ex)
        {
            foreach (var error in ex.Errors)
            {
                Log.Rejected(logger, error.ToString());
            }
            return ReloadResult.Failure(ex.Errors.ToImmutableArray());
        }
        finally
        {
            _gate.Release();
        }
    }

    private HashSet<string> KnownRoutes() =>
        configuration.GetSection("ReverseProxy:Routes").GetChildren().Select(route => route.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static partial class Log
    {
        [LoggerMessage(EventIds.PipelineLoaded, LogLevel.Information, "Pipeline generation {Generation} is serving: {StageCount} stages from {PipelineFile}.")]
        public static partial void Loaded(ILogger logger, int generation, int stageCount, string pipelineFile);

        [LoggerMessage(EventIds.PipelineRejected, LogLevel.Warning, "Pipeline rejected, the previous one keeps serving: {Error}")]
        public static partial void Rejected(ILogger logger, string error);
    }
}

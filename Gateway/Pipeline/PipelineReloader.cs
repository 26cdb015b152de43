using System.Collections.Immutable;
using Gateway.ProxyConfig;
using Gateway.Scripting;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Pipeline;

/// <summary>
/// Re-reads the configuration files (the <c>ReverseProxy</c> routes and clusters included), <c>plugins.json</c>, the
/// plugins and the scripts; validates all of it together; and only then hands YARP the routes and swaps in the
/// pipeline built for them. Reloads run one at a time; a rejected one reports every error found and changes nothing.
/// </summary>
internal sealed partial class PipelineReloader(
    PipelineHolder holder,
    PipelineBuilder builder,
    ConfigurationReader configurationReader,
    ProxyConfigReader proxyConfigReader,
    ProxyConfigPublisher proxyConfigPublisher,
    IConfiguration configuration,
    ReloadHistory history,
    ILogger<PipelineReloader> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _generation;
    private long _applied;
    private long _rejected;

    /// <summary>Reloads that made a new generation current, the start's included.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>Reloads refused, the previous generation serving on.</summary>
    public long RejectedCount => Interlocked.Read(ref _rejected);

    /// <summary>Reloads; the result describes the new pipeline, or gives the errors that rejected it.</summary>
    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var errors = new List<PipelineError>();
            if (configurationReader.Read(errors) is not { } read)
            {
                return Rejected(errors);
            }
            var gateway = Bind<GatewayOptions>(read, GatewayOptions.SectionName, errors);
            if (gateway.PluginInitializeTimeout <= TimeSpan.Zero || gateway.PluginInitializeTimeout > TimeSpan.FromHours(1))
            {
                errors.Add(new PipelineError(GatewayOptions.SectionName, $"{GatewayOptions.SectionName}:{nameof(GatewayOptions.PluginInitializeTimeout)}",
                    $"must be more than zero and at most 01:00:00, not {gateway.PluginInitializeTimeout}"));
            }
            var scripts = Bind<ScriptOptions>(read, ScriptOptions.SectionName, errors);
            var proxyErrors = new List<ProxyConfigError>();
            var proxy = await proxyConfigReader.ReadAsync(read, gateway.UpstreamActivityTimeout, proxyErrors).ConfigureAwait(false);
            errors.AddRange(proxyErrors.Select(error => new PipelineError(error.Source, error.Path, error.Message)));

            var pipelineFile = GatewayOptions.Resolve(gateway.PipelineFile);
            var entries = PipelineFileReader.ReadFile(pipelineFile, Environment.GetEnvironmentVariable, errors, out var pipelineContent);
            var locations = new PipelineLocations(pipelineFile, GatewayOptions.Resolve(gateway.PluginsPath), GatewayOptions.Resolve(gateway.ScriptsPath));
            proxy = proxy is null ? null : proxy with { Routes = KeepUnchangedRoutes(proxy.Routes) };
            var sourcesHash = PipelineHash.OfSources(read.GetSection(ProxyConfigReader.SectionName), pipelineContent);
            var snapshot = await builder.BuildAsync(_generation + 1, entries, proxy?.Routes, locations, scripts, gateway.PluginInitializeTimeout, sourcesHash, errors).ConfigureAwait(false);
            if (snapshot is null)
            {
                return Rejected(errors);
            }

            // Reachable before YARP routes by its routes; current once YARP does.
            holder.Stage(snapshot);
            try
            {
                await proxyConfigPublisher.PublishAsync(proxy!, $"generation-{snapshot.Generation}", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                holder.Unstage(snapshot);
                await snapshot.DisposeAsync().ConfigureAwait(false);
                return Rejected([new PipelineError(ProxyConfigReader.SectionName, ProxyConfigReader.SectionName, ex.Message)]);
            }
            holder.Promote(snapshot);
            _generation = snapshot.Generation;
            RefreshRunningConfiguration();
            Interlocked.Increment(ref _applied);
            Log.Loaded(logger, snapshot.Generation, snapshot.Stages.Length, pipelineFile);
            history.Add(snapshot.Generation, []);
            return ReloadResult.Success(PipelineReport.From(snapshot, holder.Retiring));
        }
        finally
        {
            _gate.Release();
        }
    }

    private ReloadResult Rejected(List<PipelineError> errors)
    {
        Interlocked.Increment(ref _rejected);
        // At start there is no previous pipeline, and the start-up's own error says why it cannot serve.
        if (holder.Current is { } serving)
        {
            foreach (var error in errors)
            {
                Log.Rejected(logger, serving.Generation, error.ToString());
            }
        }
        ImmutableArray<PipelineError> rejected = [.. errors];
        history.Add(holder.Current?.Generation ?? 0, rejected);
        return ReloadResult.Failure(rejected);
    }

    // A route that did not change keeps the configuration object YARP already serves, so YARP keeps its endpoint and
    // requests on it match the new snapshot at once.
    private IReadOnlyList<RouteConfig> KeepUnchangedRoutes(IReadOnlyList<RouteConfig> routes) =>
        holder.Current is not { } serving
            ? routes
            : routes.Select(route => serving.Route(route.RouteId) is { } kept && kept.Equals(route) ? kept : route).ToArray();

    private static T Bind<T>(IConfiguration read, string section, List<PipelineError> errors) where T : new()
    {
        try
        {
            return read.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            errors.Add(new PipelineError(section, section, ex.InnerException is { } inner ? $"{ex.Message} {inner.Message}" : ex.Message));
            return new T();
        }
    }

    // The settings read from IOptions elsewhere (log levels, the drain warning) follow the files the reload validated.
    private void RefreshRunningConfiguration()
    {
        try
        {
            (configuration as IConfigurationRoot)?.Reload();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException)
        {
            Log.RefreshFailed(logger, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.PipelineLoaded, LogLevel.Information, "Pipeline generation {Generation} is serving: {StageCount} stages from {PipelineFile}.")]
        public static partial void Loaded(ILogger logger, int generation, int stageCount, string pipelineFile);

        [LoggerMessage(EventIds.PipelineRejected, LogLevel.Warning, "Reload rejected; generation {Generation} keeps serving: {Error}")]
        public static partial void Rejected(ILogger logger, int generation, string error);

        [LoggerMessage(EventIds.ConfigurationRefreshFailed, LogLevel.Warning, "The reload is serving, but the running configuration could not be refreshed (a file changed again meanwhile?): {Error}")]
        public static partial void RefreshFailed(ILogger logger, string error);
    }
}

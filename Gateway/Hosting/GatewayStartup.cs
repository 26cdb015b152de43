using Gateway.AccessLog;
using Gateway.Admin;
using Gateway.Pipeline;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>
/// Before Kestrel starts listening, checks that its two listeners cannot take each other's connections and loads the
/// first pipeline, so no request ever meets an unloaded gateway. A pipeline that cannot load fails the start: serving
/// without the configured auth would be worse than not serving. Once Kestrel is up, the two listeners are logged;
/// once it has stopped, the plugins are disposed.
/// </summary>
internal sealed partial class GatewayStartup(
    PipelineReloader reloader,
    PipelineHolder holder,
    GatewayListeners listeners,
    AdminKey adminKey,
    IOptions<ForwardedHeadersOptions> trustedProxies,
    IOptions<AccessLogOptions> accessLog,
    IOptions<TracingOptions> tracing,
    IEnumerable<AccessLogFile> accessLogFile,
    IConfiguration configuration,
    ILogger<GatewayStartup> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(adminKey); // created now, so a generated key is logged at start rather than on the first admin call
        GatewayListeners.CheckApart(configuration.GetSection("Kestrel"));
        // Read now, so a trusted proxy that is not an address fails the start naming the setting, not the first request.
        _ = trustedProxies.Value;
        var settingsProblems = accessLog.Value.Validate()
            .Concat(tracing.Value.Validate())
            .Concat(accessLogFile.Select(file => file.OpenError).OfType<string>());
        if (settingsProblems.ToList() is [_, ..] problems)
        {
            throw new GatewayStartException(string.Join("; ", problems));
        }
        var result = await reloader.ReloadAsync(cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new GatewayStartException(string.Join("; ", result.Errors));
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        // Kestrel reads its endpoints when it starts, so this is the first moment they can be checked.
        listeners.Validate();
        Log.Listening(logger, listeners.ProxyUrl, listeners.AdminUrl);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Once the server has stopped taking requests, plugins are disposed and unloaded like at any reload.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken) => holder.RetireAllAsync().WaitAsync(cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(EventIds.GatewayListening, LogLevel.Information, "Proxy listening on {ProxyUrl}; admin API on {AdminUrl}")]
        public static partial void Listening(ILogger logger, string proxyUrl, string adminUrl);
    }
}

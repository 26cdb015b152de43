using System.Net.Http.Headers;
using System.Security.Cryptography;
using Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Plugins.Testing;

/// <summary>
/// A real gateway in the test's process: its proxy and admin listeners on free loopback ports, one route for every
/// path in front of a <see cref="RecordingOrigin"/>, and the pipeline the <see cref="PluginHostBuilder"/> described,
/// loaded from a folder of its own as a deployed gateway loads it.
/// </summary>
/// <example>
/// <code>
/// await using var host = await PluginHost.Create()
///     .Plugin&lt;StampFilter&gt;("""{ "value": "blue" }""")
///     .StartAsync();
/// using var response = await host.Client.GetAsync("/hello");
/// Assert.Equal("blue", host.Origin.LastRequest.Headers["x-stamp"]);
/// </code>
/// </example>
public sealed class PluginHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LogRecorder _logs;

    private PluginHost(WebApplication app, RecordingOrigin origin, string directory, string adminKey, LogRecorder logs)
    {
        _app = app;
        _logs = logs;
        Origin = origin;
        Directory = directory;
        var listeners = app.Services.GetRequiredService<GatewayListeners>();
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{listeners.ProxyPort}/") };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listeners.AdminPort}/") };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
    }

    /// <summary>Starts describing a gateway for a test.</summary>
    public static PluginHostBuilder Create() => new();

    /// <summary>A client of the proxy listener, without cookies: each request is a new client unless it sends its own.</summary>
    public HttpClient Client { get; }

    /// <summary>A client of the admin API, with the host's admin key.</summary>
    public HttpClient Admin { get; }

    /// <summary>The origin behind the gateway, and what it received.</summary>
    public RecordingOrigin Origin { get; }

    /// <summary>The gateway's folder: <c>appsettings.json</c>, <c>plugins.json</c>, <c>plugins/</c>, <c>scripts/</c>.</summary>
    public string Directory { get; }

    /// <summary>What the gateway and its plugins logged, as <c>Level Category: message</c>, oldest first.</summary>
    public IReadOnlyList<string> Logs => _logs.Lines;

    /// <summary>Reloads the pipeline from the folder (<c>POST /admin/reload</c>); 200 with the new pipeline, or 422 with every error.</summary>
    public Task<HttpResponseMessage> ReloadAsync() => Admin.PostAsync("admin/reload", content: null);

    internal static async Task<PluginHost> StartAsync(PluginHostBuilder description)
    {
        var origin = await RecordingOrigin.StartAsync(description.Respond).ConfigureAwait(false);
        var directory = System.IO.Directory.CreateTempSubdirectory("gateway-plugin-test-").FullName;
        try
        {
            description.WriteFolder(directory, origin.Url);
            var adminKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            var logs = new LogRecorder();
            WebApplication app;
            try
            {
                app = await LoopbackGateway.StartAsync(directory,
                [
                    $"--Gateway:Admin:ApiKey={adminKey}",
                    $"--Gateway:PipelineFile={Path.Combine(directory, "plugins.json")}",
                    $"--Gateway:PluginsPath={Path.Combine(directory, "plugins")}",
                    $"--Gateway:ScriptsPath={Path.Combine(directory, "scripts")}",
                    "--Logging:LogLevel:Default=Information",
                    .. description.Settings,
                ], logs).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                throw new PluginHostException("The gateway under test did not start: " + ex.Message, ex);
            }
            return new PluginHost(app, origin, directory, adminKey, logs);
        }
        catch
        {
            await origin.DisposeAsync().ConfigureAwait(false);
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>Stops the gateway (its plugins are disposed and unloaded) and the origin, and deletes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Origin.DisposeAsync().ConfigureAwait(false);
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

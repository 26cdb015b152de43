using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gateway.Hosting;
using Gateway.Pipeline;
using Gateway.Plugins.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real gateway in this process: Kestrel on two free loopback ports, its own folder with appsettings.json,
/// plugins.json and a plugins/ drop folder holding copies of real plugin builds. Disposing stops it and deletes the folder.
/// </summary>
internal sealed class TestGateway : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key";

    private readonly WebApplication _app;

    private TestGateway(WebApplication app, string directory, RecordingLoggerProvider logs)
    {
        _app = app;
        Directory = directory;
        Logs = logs;
        var listeners = app.Services.GetRequiredService<GatewayListeners>();
        // No cookie container: every request is a new client unless the test sends a Cookie header itself.
        Proxy = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{listeners.ProxyPort}/") };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listeners.AdminPort}/") };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    }

    public string Directory { get; }

    /// <summary>A client of the proxy listener.</summary>
    public HttpClient Proxy { get; }

    /// <summary>A client of the admin listener, sending the admin key.</summary>
    public HttpClient Admin { get; }

    public RecordingLoggerProvider Logs { get; }

    public IServiceProvider Services => _app.Services;

    public PipelineHolder Holder => Services.GetRequiredService<PipelineHolder>();

    /// <summary>
    /// Completes when every pipeline retired so far has drained and unloaded. On a fake clock the routing grace is
    /// moved past first; on the real one it is waited out.
    /// </summary>
    public Task RetirementsAsync()
    {
        (Services.GetRequiredService<TimeProvider>() as FakeTimeProvider)?.Advance(PipelineHolder.RoutingGrace);
        return Holder.Retirements;
    }

    public string PluginsPath => Path.Combine(Directory, "plugins");

    public static TestGatewayBuilder Create() => new();

    internal static async Task<TestGateway> StartAsync(string directory, IEnumerable<string> extraArgs, Action<IServiceCollection> services)
    {
        var logs = new RecordingLoggerProvider();
        var app = await LoopbackGateway.StartAsync(directory, [$"--Gateway:Admin:ApiKey={AdminKey}", .. extraArgs], logs, services);
        return new TestGateway(app, directory, logs);
    }

    /// <summary>Replaces plugins.json.</summary>
    public void WritePipeline(string json) => File.WriteAllText(Path.Combine(Directory, "plugins.json"), json);

    /// <summary>Writes or replaces scripts/<paramref name="name"/>.</summary>
    public void WriteScript(string name, string source) => File.WriteAllText(Path.Combine(Directory, "scripts", name), source);

    /// <summary>Copies a plugin build into plugins/<paramref name="name"/>/, replacing what was there.</summary>
    public void InstallPlugin(string name, string buildFolder) => TestGatewayBuilder.CopyPlugin(buildFolder, Path.Combine(PluginsPath, name));

    public Task<HttpResponseMessage> ReloadAsync() => Admin.PostAsync("admin/reload", null);

    public async Task<JsonNode> ReloadOkAsync()
    {
        using var response = await ReloadAsync();
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"reload failed: {(int)response.StatusCode} {body} {string.Join(Environment.NewLine, Logs.Lines.Where(line => line.Level >= LogLevel.Error).Select(line => line.Message + " " + line.Exception))}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Reloads expecting a rejection; returns the first error.</summary>
    public async Task<JsonNode> ReloadRejectedAsync()
    {
        using var response = await ReloadAsync();
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.UnprocessableEntity, $"expected 422, got {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["errors"]![0]!;
    }

    public async ValueTask DisposeAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a test for.
        }
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Testing;

/// <summary>A gateway in this process with both listeners on free loopback ports, started from a folder of its own.</summary>
internal static class LoopbackGateway
{
    /// <param name="directory">The content root: its <c>appsettings.json</c> and the pipeline's files.</param>
    /// <param name="args">Settings beyond the listeners', as command-line arguments.</param>
    /// <param name="logs">Where every log line goes; no other provider is kept.</param>
    /// <param name="services">More services, such as a fake <see cref="TimeProvider"/>.</param>
    /// <exception cref="Exception">Whatever stopped the gateway from starting; nothing is left running.</exception>
    public static async Task<WebApplication> StartAsync(string directory, IEnumerable<string> args, ILoggerProvider logs, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = directory,
            Args =
            [
                "--hostBuilder:reloadConfigOnChange=false",
                "--Kestrel:Endpoints:Proxy:Url=http://127.0.0.1:0",
                "--Kestrel:Endpoints:Admin:Url=http://127.0.0.1:0",
                .. args,
            ],
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        services?.Invoke(builder.Services);
        builder.AddGateway();
        var app = builder.Build();
        app.UseGateway();
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return app;
    }
}

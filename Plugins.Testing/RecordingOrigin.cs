using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Testing;

/// <summary>
/// The upstream behind a <see cref="PluginHost"/>: Kestrel on 127.0.0.1 and a free port, recording every request it
/// receives and answering 200 <c>origin</c> (text/plain), or as the test's own handler says.
/// </summary>
public sealed class RecordingOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly Func<HttpContext, Task>? _respond;

    private RecordingOrigin(WebApplication app, Func<HttpContext, Task>? respond)
    {
        _app = app;
        _respond = respond;
    }

    /// <summary>The origin's base address, <c>http://127.0.0.1:port/</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>Every request received so far, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>The last request received; throws when none has been.</summary>
    public RecordedRequest LastRequest => _requests.LastOrDefault() ?? throw new InvalidOperationException("The origin has received no request.");

    internal static async Task<RecordingOrigin> StartAsync(Func<HttpContext, Task>? respond)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var origin = new RecordingOrigin(app, respond);
        app.Run(origin.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        origin.Url = app.Urls.Single() + "/";
        return origin;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        _requests.Enqueue(new RecordedRequest(
            request.Method,
            request.Path + request.QueryString,
            request.Headers.ToDictionary(header => header.Key.ToLowerInvariant(), header => header.Value.ToString()),
            body.ToArray()));
        if (_respond is not null)
        {
            await _respond(context).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync("origin", context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Stops the origin.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

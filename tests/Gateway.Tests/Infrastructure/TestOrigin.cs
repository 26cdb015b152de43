using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real Kestrel upstream on 127.0.0.1 and a free port. It answers every request with JSON naming itself and
/// echoing the method, path and headers it received, and counts what it served.
/// </summary>
internal sealed class TestOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _delay;
    private readonly Func<HttpContext, int, Task>? _respond;
    private int _requests;

    private TestOrigin(string name, WebApplication app, TimeSpan delay, Func<HttpContext, int, Task>? respond)
    {
        Name = name;
        _app = app;
        _delay = delay;
        _respond = respond;
    }

    public string Name { get; }

    public string Url { get; private set; } = "";

    public int Requests => Volatile.Read(ref _requests);

    /// <param name="name">What it calls itself in its answers and its x-origin header.</param>
    /// <param name="delay">How long it takes over each answer (a slow upstream).</param>
    /// <param name="respond">Answers instead of the echo; gets the request and its number (1 for the first).</param>
    public static async Task<TestOrigin> StartAsync(string name, TimeSpan delay = default, Func<HttpContext, int, Task>? respond = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var origin = new TestOrigin(name, app, delay, respond);
        app.Run(origin.HandleAsync);
        await app.StartAsync();
        origin.Url = app.Urls.Single() + "/";
        return origin;
    }

    /// <summary>Completes when a request to a path under <c>/hold</c> has arrived and is waiting.</summary>
    public Task Holding => _holding.Task;

    /// <summary>Lets every request under <c>/hold</c> complete.</summary>
    public void Release() => _held.TrySetResult();

    private async Task HandleAsync(HttpContext context)
    {
        var number = Interlocked.Increment(ref _requests);
        if (_delay > TimeSpan.Zero)
        {
            await Task.Delay(_delay);
        }
        if (_respond is not null)
        {
            await _respond(context, number);
            return;
        }
        if (context.Request.Path.StartsWithSegments("/hold"))
        {
            _holding.TrySetResult();
            await _held.Task;
        }
        context.Response.ContentType = "application/json";
        context.Response.Headers["x-origin"] = Name;
        var echo = new OriginEcho(
            Name,
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
        await context.Response.WriteAsync(JsonSerializer.Serialize(echo));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What a <see cref="TestOrigin"/> saw.</summary>
internal sealed record OriginEcho(string Origin, string Method, string Path, Dictionary<string, string> Headers)
{
    public static async Task<OriginEcho> ReadAsync(HttpResponseMessage response) =>
        JsonSerializer.Deserialize<OriginEcho>(await response.Content.ReadAsStringAsync())
        ?? throw new InvalidOperationException("empty echo");
}

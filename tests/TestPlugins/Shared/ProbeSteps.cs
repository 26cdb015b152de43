using System.Text;
using Gateway.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Probe;

/// <summary>What the probe does, per plugins.json entry.</summary>
public sealed record ProbeOptions
{
    /// <summary>Appended to the request's x-order header on the way in and the response's x-order-out on the way out.</summary>
    public required string Tag { get; init; }

    /// <summary>Answer with this status (and the body <c>probe:{tag}</c>) instead of going on.</summary>
    public int? Respond { get; init; }

    /// <summary>Pin the request to this destination id.</summary>
    public string? Choose { get; init; }

    /// <summary>Keep only destinations whose metadata "group" equals this.</summary>
    public string? Group { get; init; }

    public bool ThrowOnRequest { get; init; }

    public bool ThrowOnResponse { get; init; }

    public bool ThrowInConstructor { get; init; }

    /// <summary>Wait this long before the request step's work, so that it completes asynchronously.</summary>
    public int DelayMs { get; init; }

    /// <summary>Set vars[Tag] to this value on the way in.</summary>
    public string? SetVar { get; init; }

    /// <summary>Copy vars[EchoVar] into the response header x-var.</summary>
    public string? EchoVar { get; init; }

    /// <summary>Finish InitializeAsync only after yielding, so the gateway must await it.</summary>
    public bool InitializeAsynchronously { get; init; }

    /// <summary>Never finish InitializeAsync on its own: only its token's cancellation ends it.</summary>
    public bool InitializeUntilCanceled { get; init; }

    public bool ThrowOnInitialize { get; init; }

    /// <summary>
    /// Middleware shape only: start a detached copy of the request that goes on through <c>next</c> (logging what it got),
    /// and answer the client with 202 and x-detached saying whether the copy started.
    /// </summary>
    public bool Detach { get; init; }

    /// <summary>
    /// Fetch this URL in the request step and wait for it by blocking the thread (sync over async), as a careless plugin
    /// would; the answer's status goes in the request header x-blocked-status.
    /// </summary>
    public string? BlockOn { get; init; }

    /// <summary>Say in the response header x-on-pool whether each step ran on a thread-pool thread ("request,response").</summary>
    public bool ReportThreads { get; init; }
}

/// <summary>The probe's two steps, shared by its middleware shape (Probe) and its filter shape (FilterProbe).</summary>
internal sealed class ProbeSteps
{
    private readonly ProbeOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient? _blockOn;

    public ProbeOptions Options => _options;

    public ILogger Logger => _logger;
    private bool _initialized;

    public ProbeSteps(PluginSetup setup)
    {
        _logger = setup.Logger;
        _options = setup.GetConfig<ProbeOptions>();
        if (_options.ThrowInConstructor)
        {
            throw new InvalidOperationException($"probe '{_options.Tag}' was told to fail in its constructor");
        }
        if (_options.Respond is < 100 or > 599)
        {
            throw new PluginConfigurationException("$.respond", "must be an HTTP status code");
        }
        if (_options.BlockOn is not null)
        {
            _blockOn = setup.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        }
    }

    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("probe '{Tag}' is initializing", _options.Tag);
        if (_options.InitializeAsynchronously)
        {
            await Task.Yield();
        }
        if (_options.InitializeUntilCanceled)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        if (_options.ThrowOnInitialize)
        {
            throw new InvalidOperationException($"probe '{_options.Tag}' was told to fail initializing");
        }
        _initialized = true;
    }

    /// <returns>False when the probe answered.</returns>
    public async ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        if (_options.ReportThreads)
        {
            context.Vars["on-pool"] = Thread.CurrentThread.IsThreadPoolThread;
        }
        if (_blockOn is not null)
        {
            using var blocked = _blockOn.GetAsync(_options.BlockOn).GetAwaiter().GetResult();
            context.HttpContext.Request.Headers["x-blocked-status"] = ((int)blocked.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (_options.DelayMs > 0)
        {
            await Task.Delay(_options.DelayMs);
        }
        var http = context.HttpContext;
        if (_options.ThrowOnRequest)
        {
            throw new InvalidOperationException($"probe '{_options.Tag}' was told to fail");
        }
        http.Request.Headers["x-order"] = Append(http.Request.Headers["x-order"], _options.Tag);
        if (_options.SetVar is { } value)
        {
            context.Vars[_options.Tag] = value;
        }
        if (_options.Group is { } group)
        {
            context.NarrowDestinations(d => d.Metadata.TryGetValue("group", out var g) && g == group);
        }
        if (_options.Choose is { } id && !context.ChooseDestination(id))
        {
            throw new InvalidOperationException($"destination '{id}' is not a candidate");
        }
        if (_options.Respond is { } status)
        {
            http.Response.StatusCode = status;
            http.Response.Headers["x-route"] = context.RouteId;
            context.DeferResponseBody(Encoding.UTF8.GetBytes($"probe:{_options.Tag}"));
            return false;
        }
        return true;
    }

    public void OnResponse(PluginContext context)
    {
        var http = context.HttpContext;
        if (_options.ReportThreads)
        {
            http.Response.Headers["x-on-pool"] = $"{context.Vars["on-pool"]},{Thread.CurrentThread.IsThreadPoolThread}".ToLowerInvariant();
        }
        if (_options.ThrowOnResponse)
        {
            throw new InvalidOperationException($"probe '{_options.Tag}' was told to fail on the response");
        }
        http.Response.Headers["x-order-out"] = Append(http.Response.Headers["x-order-out"], _options.Tag);
        http.Response.Headers["x-candidates"] = string.Join(",", context.Destinations.Select(d => d.Id));
        if (_initialized)
        {
            http.Response.Headers["x-initialized"] = Append(http.Response.Headers["x-initialized"], _options.Tag);
        }
        if (_options.EchoVar is { } name)
        {
            http.Response.Headers["x-var"] = context.Vars.TryGetValue(name, out var v) ? v?.ToString() : "(none)";
        }
    }

    private static string Append(string? list, string item) => string.IsNullOrEmpty(list) ? item : $"{list},{item}";
}

using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Retry;

/// <summary>
/// Sends a request again when its upstream could not be reached, timed out, or answered with a status configured as
/// transient, on another candidate destination when there is one: only idempotent methods, only before any byte of
/// the answer has gone to the client, only bodies small enough to buffer, and only within a retry budget. YARP itself
/// never retries (dotnet/yarp#56).
/// </summary>
[NonBlocking]
public sealed partial class RetryPlugin : IGatewayPlugin, IReportsCounters
{
    private readonly int _attempts;
    private readonly FrozenSet<string> _methods;
    private readonly FrozenSet<int> _statuses;
    private readonly bool _onConnect;
    private readonly bool _onTimeout;
    private readonly RetryBudget _budget;
    private readonly TimeSpan _backoff;
    private readonly int _maxBodyBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, long> _retriesByRoute = new(StringComparer.Ordinal);
    private long _refusedByBudget;

    public RetryPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<RetryOptions>();
        _attempts = options.Attempts ?? 2;
        if (_attempts is < 1 or > 10)
        {
            throw new PluginConfigurationException("$.attempts", "must be from 1 (no retry) to 10");
        }
        _methods = (options.Methods ?? ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]).Select(method => method.ToUpperInvariant()).ToFrozenSet(StringComparer.Ordinal);
        var statuses = new HashSet<int>();
        var on = options.On ?? ["connect", "502", "503", "504", "timeout"];
        for (var i = 0; i < on.Length; i++)
        {
            switch (on[i])
            {
                case "connect":
                    _onConnect = true;
                    break;
                case "timeout":
                    _onTimeout = true;
                    break;
                case var code when int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 500 and <= 599:
                    statuses.Add(status);
                    break;
                default:
                    throw new PluginConfigurationException($"$.on[{i}]", $"'{on[i]}' is not connect, timeout or a 5xx status code");
            }
        }
        _statuses = statuses.ToFrozenSet();
        var percent = options.BudgetPercent ?? 20;
        if (percent is < 0 or > 100 || double.IsNaN(percent))
        {
            throw new PluginConfigurationException("$.budgetPercent", "must be from 0 to 100");
        }
        if (options.MinRetries is < 0)
        {
            throw new PluginConfigurationException("$.minRetries", "must be zero or more");
        }
        _budget = new RetryBudget(percent / 100, options.MinRetries ?? 10);
        _backoff = TimeSpan.FromMilliseconds(options.BackoffMs switch
        {
            null => 25,
            >= 0 and var backoff => backoff,
            _ => throw new PluginConfigurationException("$.backoffMs", "must be zero or more"),
        });
        _maxBodyBytes = options.MaxBodyBytes switch
        {
            null => 65_536,
            >= 0 and var max => max,
            _ => throw new PluginConfigurationException("$.maxBodyBytes", "must be zero or more"),
        };
        _time = setup.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        _logger = setup.Logger;
    }

    public IReadOnlyDictionary<string, long> Counters
    {
        get
        {
            var counters = new Dictionary<string, long>(StringComparer.Ordinal)
            {
                ["retries"] = _retriesByRoute.Values.Sum(),
                ["refusedByBudget"] = Interlocked.Read(ref _refusedByBudget),
            };
            foreach (var (route, retries) in _retriesByRoute)
            {
                counters["retries:" + route] = retries;
            }
            return counters;
        }
    }

    public ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.HttpContext.Request;
        if (_attempts == 1 || !_methods.Contains(request.Method) || !CanResend(request))
        {
            return next(context);
        }
        _budget.Deposit();
        return SendAsync(context, next);
    }

    // A body is sent again only from a buffer of its own, so only one of known, small length.
    private bool CanResend(HttpRequest request)
    {
        if (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            return true;
        }
        if (request.ContentLength is not { } length || length > _maxBodyBytes)
        {
            return false;
        }
        request.EnableBuffering(_maxBodyBytes);
        return true;
    }

    private async ValueTask SendAsync(PluginContext context, PluginDelegate next)
    {
        await next(context).ConfigureAwait(false);
        for (var attempt = 1; attempt < _attempts && IsTransient(context); attempt++)
        {
            if (!_budget.TryWithdraw())
            {
                Interlocked.Increment(ref _refusedByBudget);
                return;
            }
            if (!await context.TryDiscardUpstreamResponseAsync().ConfigureAwait(false))
            {
                return;
            }
            _retriesByRoute.AddOrUpdate(context.RouteId, 1, static (_, count) => count + 1);
            Log.Retrying(_logger, context.RouteId, attempt + 1);
            var wait = _backoff * Math.Pow(2, attempt - 1) * Random.Shared.NextDouble();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, context.HttpContext.RequestAborted).ConfigureAwait(false);
            }
            if (context.HttpContext.Request.Body.CanSeek)
            {
                context.HttpContext.Request.Body.Position = 0;
            }
            await next(context).ConfigureAwait(false);
        }
    }

    private bool IsTransient(PluginContext context)
    {
        var status = context.HttpContext.Response.StatusCode;
        if (context.UpstreamFailed)
        {
            // The gateway's own answer: 504 for no answer in time, 502 for none at all; 503 means no destination, and another try finds none either.
            return status == StatusCodes.Status504GatewayTimeout ? _onTimeout : status == StatusCodes.Status502BadGateway && _onConnect;
        }
        return _statuses.Contains(status);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Retrying a request on route {Route}: attempt {Attempt}.")]
        public static partial void Retrying(ILogger logger, string route, int attempt);
    }
}

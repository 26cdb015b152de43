using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.RateLimit;

/// <summary>
/// Lets a request through only while every limit that applies to it has a permit left; otherwise answers 429
/// problem+json with <c>Retry-After</c>. Answers carry the IETF <c>RateLimit-Policy</c> and <c>RateLimit</c> fields
/// (draft-ietf-httpapi-ratelimit-headers): every policy, and the remaining quota of the one closest to running out.
/// </summary>
public sealed partial class RateLimitPlugin : IGatewayFilter, IDisposable
{
    private const string PolicyHeader = "RateLimit-Policy";
    private const string RemainingHeader = "RateLimit";
    private static readonly ValueTask<bool> Pass = new(true);

    private readonly Limit[] _limits;
    private readonly bool _headers;
    private readonly string _policies;
    private readonly IProblemDetailsService? _problems;
    private readonly ILogger _logger;

    public RateLimitPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<RateLimitOptions>();
        if (options.Store is not (null or "local"))
        {
            throw new PluginConfigurationException("$.store", $"'{options.Store}' is not a store this version has; use \"local\"");
        }
        if (options.Limits is not { Length: > 0 } limits)
        {
            throw new PluginConfigurationException("$.limits", "give at least one limit, e.g. { \"key\": \"clientIp\", \"tokenBucket\": { \"rate\": 10, \"per\": \"00:00:01\", \"burst\": 20 } }");
        }
        var built = new List<Limit>();
        try
        {
            for (var i = 0; i < limits.Length; i++)
            {
                built.Add(Limit.Create(limits[i], i, $"$.limits[{i}]"));
            }
        }
        catch
        {
            built.ForEach(limit => limit.Dispose());
            throw;
        }
        if (built.GroupBy(limit => limit.Name, StringComparer.Ordinal).FirstOrDefault(names => names.Count() > 1) is { } twice)
        {
            built.ForEach(limit => limit.Dispose());
            throw new PluginConfigurationException("$.limits", $"two limits are named '{twice.Key}'; give each its own name");
        }
        _limits = [.. built];
        _headers = options.Headers ?? true;
        _policies = string.Join(", ", _limits.Select(limit => limit.Policy));
        _problems = setup.Services.GetService<IProblemDetailsService>();
        _logger = setup.Logger;
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var limit in _limits)
        {
            if (limit.KeyOf(context) is { } key && !limit.TryAcquire(key, out var retryAfter))
            {
                return RefuseAsync(context, limit, retryAfter);
            }
        }
        return Pass;
    }

    public void OnResponse(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_headers && context.HttpContext.Response.StatusCode != StatusCodes.Status429TooManyRequests)
        {
            SetHeaders(context, refused: null);
        }
    }

    // The policies, and the remaining quota of the limit closest to running out (the refusing one when there is one).
    private void SetHeaders(PluginContext context, Limit? refused)
    {
        Limit? closest = refused;
        long remaining = 0;
        if (refused is null)
        {
            var lowest = double.MaxValue;
            foreach (var limit in _limits)
            {
                if (limit.KeyOf(context) is not { } key)
                {
                    continue;
                }
                var left = limit.Remaining(key);
                var share = (double)left / limit.Quota;
                if (share < lowest)
                {
                    (lowest, closest, remaining) = (share, limit, left);
                }
            }
        }
        if (closest is null)
        {
            return;
        }
        var headers = context.HttpContext.Response.Headers;
        headers[PolicyHeader] = _policies;
        headers[RemainingHeader] = string.Create(CultureInfo.InvariantCulture,
            $"\"{closest.Name}\";r={remaining};t={Limit.WholeSeconds(closest.UntilWhole(remaining))}");
    }

    private async ValueTask<bool> RefuseAsync(PluginContext context, Limit limit, TimeSpan retryAfter)
    {
        var http = context.HttpContext;
        var seconds = Math.Max(1, Limit.WholeSeconds(retryAfter));
        Log.Refused(_logger, limit.Name, http.Request.Path.Value ?? "/");
        var response = http.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers[HeaderNames.RetryAfter] = seconds.ToString(CultureInfo.InvariantCulture);
        SetHeaders(context, limit);
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too Many Requests",
            Detail = $"The rate limit '{limit.Name}' was reached; retry after {seconds} s.",
        };
        if (_problems is null || !await _problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem }).ConfigureAwait(false))
        {
            await response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json").ConfigureAwait(false);
        }
        return false;
    }

    public void Dispose()
    {
        foreach (var limit in _limits)
        {
            limit.Dispose();
        }
    }

    private static partial class Log
    {
        // Debug: a client hammering a limit must not turn into log volume.
        [LoggerMessage(1, LogLevel.Debug, "Refused {Path}: rate limit {Limit} reached.")]
        public static partial void Refused(ILogger logger, string limit, string path);
    }
}

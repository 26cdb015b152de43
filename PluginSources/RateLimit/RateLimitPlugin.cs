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
[NonBlocking]
public sealed partial class RateLimitPlugin : IGatewayFilter, IDisposable
{
    private const string PolicyHeader = "RateLimit-Policy";
    private const string RemainingHeader = "RateLimit";
    private static readonly ValueTask<bool> Pass = new(true);

    // The shared decision's RateLimit field, from the request step to the response step.
    private static readonly object RemainingItem = new();

    private readonly Limit[] _limits;
    private readonly SharedLimits? _shared;
    private readonly bool _failOpen;
    private int _sharedFailing;
    private readonly bool _headers;
    private readonly string _policies;
    private readonly IProblemDetailsService? _problems;
    private readonly ILogger _logger;

    public RateLimitPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<RateLimitOptions>();
        if (options.Store is not (null or "local" or "redis"))
        {
            throw new PluginConfigurationException("$.store", $"'{options.Store}' is not a store; use \"local\" or \"redis\"");
        }
        ISharedScripts? scripts = null;
        if (options.Store == "redis" && (scripts = setup.Services.GetService<ISharedScripts>()) is null)
        {
            throw new PluginConfigurationException("$.store", "\"redis\" needs the gateway's Redis: set ConnectionStrings:Redis");
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
        _shared = scripts is null ? null : new SharedLimits(scripts, _limits);
        _failOpen = options.FailOpen ?? true;
        _headers = options.Headers ?? true;
        _policies = string.Join(", ", _limits.Select(limit => limit.Policy));
        _problems = setup.Services.GetService<IProblemDetailsService>();
        _logger = setup.Logger;
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _shared is null ? DecideLocally(context) : DecideSharedAsync(context);
    }

    private ValueTask<bool> DecideLocally(PluginContext context)
    {
        foreach (var limit in _limits)
        {
            if (limit.KeyOf(context) is { } key && !limit.TryAcquire(key, out var retryAfter))
            {
                return RefuseAsync(context, limit, retryAfter);
            }
        }
        return Pass;
    }

    private async ValueTask<bool> DecideSharedAsync(PluginContext context)
    {
        var remaining = new long[_limits.Length];
        int refused;
        TimeSpan retryAfter;
        try
        {
            (refused, retryAfter) = await _shared!.DecideAsync(context, remaining).ConfigureAwait(false);
        }
        catch (SharedStoreException ex)
        {
            if (Interlocked.Exchange(ref _sharedFailing, 1) == 0)
            {
                Log.SharedStoreFailing(_logger, _failOpen ? "counting on this node alone" : "refusing requests with 503", ex.Message);
            }
            return _failOpen ? await DecideLocally(context).ConfigureAwait(false) : await UnavailableAsync(context.HttpContext).ConfigureAwait(false);
        }
        if (Interlocked.Exchange(ref _sharedFailing, 0) == 1)
        {
            Log.SharedStoreBack(_logger);
        }
        if (refused >= 0)
        {
            return await RefuseAsync(context, _limits[refused], retryAfter).ConfigureAwait(false);
        }
        if (_headers && Closest(remaining) is >= 0 and var closest)
        {
            context.HttpContext.Items[RemainingItem] = Remaining(_limits[closest], remaining[closest]);
        }
        return true;
    }

    public void OnResponse(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        // A refusal of this entry's never gets here (a filter that answers has no response step); another's keeps its fields.
        if (!_headers || response.StatusCode == StatusCodes.Status429TooManyRequests)
        {
            return;
        }
        if (_shared is null || Volatile.Read(ref _sharedFailing) == 1)
        {
            SetHeaders(context, refused: null);
        }
        else if (context.HttpContext.Items.TryGetValue(RemainingItem, out var field))
        {
            response.Headers[PolicyHeader] = _policies;
            response.Headers[RemainingHeader] = (string?)field;
        }
    }

    /// <summary>The applying limit (remaining 0 or more) with the smallest share of its quota left; -1 when none applies.</summary>
    private int Closest(ReadOnlySpan<long> remaining)
    {
        var closest = -1;
        var lowest = double.MaxValue;
        for (var i = 0; i < remaining.Length; i++)
        {
            if (remaining[i] >= 0 && (double)remaining[i] / _limits[i].Quota is var share && share < lowest)
            {
                (lowest, closest) = (share, i);
            }
        }
        return closest;
    }

    private static string Remaining(Limit limit, long remaining) => string.Create(CultureInfo.InvariantCulture,
        $"\"{limit.Name}\";r={remaining};t={Limit.WholeSeconds(limit.UntilWhole(remaining))}");

    private async ValueTask<bool> UnavailableAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers[HeaderNames.RetryAfter] = "1";
        await WriteProblemAsync(http, StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
            "The rate limits cannot be checked right now; retry shortly.").ConfigureAwait(false);
        return false;
    }

    // The policies, and the remaining quota of the limit closest to running out (the refusing one when there is one).
    private void SetHeaders(PluginContext context, Limit? refused)
    {
        var headers = context.HttpContext.Response.Headers;
        if (refused is not null)
        {
            headers[PolicyHeader] = _policies;
            headers[RemainingHeader] = Remaining(refused, 0);
            return;
        }
        Span<long> remaining = stackalloc long[_limits.Length];
        for (var i = 0; i < _limits.Length; i++)
        {
            remaining[i] = _limits[i].KeyOf(context) is { } key ? _limits[i].Remaining(key) : -1;
        }
        if (Closest(remaining) is >= 0 and var closest)
        {
            headers[PolicyHeader] = _policies;
            headers[RemainingHeader] = Remaining(_limits[closest], remaining[closest]);
        }
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
        await WriteProblemAsync(http, StatusCodes.Status429TooManyRequests, "Too Many Requests",
            $"The rate limit '{limit.Name}' was reached; retry after {seconds} s.").ConfigureAwait(false);
        return false;
    }

    private async ValueTask WriteProblemAsync(HttpContext http, int status, string title, string detail)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (_problems is null || !await _problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem }).ConfigureAwait(false))
        {
            await http.Response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json").ConfigureAwait(false);
        }
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

        [LoggerMessage(2, LogLevel.Warning, "The shared rate-limit store is failing, {Consequence} until it answers again: {Error}")]
        public static partial void SharedStoreFailing(ILogger logger, string consequence, string error);

        [LoggerMessage(3, LogLevel.Information, "The shared rate-limit store answers again; limits are counted across nodes.")]
        public static partial void SharedStoreBack(ILogger logger);
    }
}

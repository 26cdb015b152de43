using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Auth;

/// <summary>
/// Lets a request through only with credentials one of the configured schemes accepts (API key, basic, JWT); puts the
/// consumer into <c>vars</c> and, if configured, an upstream header; removes the credentials before the request goes
/// upstream. Otherwise answers 401 problem+json with a challenge per scheme.
/// </summary>
[NonBlocking]
public sealed partial class AuthPlugin : IGatewayFilter, IAsyncInitializable, IReportsCounters, IDisposable
{
    private readonly IAuthScheme[] _schemes;
    // Requests each scheme admitted (by position, as declared), named by the scheme's kind for the counters.
    private readonly long[] _accepted;
    private readonly string[] _acceptedNames;
    private long _missing;
    private long _refused;
    private readonly string[] _spoofableHeaders;
    private readonly string _consumerVar;
    private readonly string? _consumerHeader;
    private readonly bool _passCredentials;
    private readonly IProblemDetailsService? _problems;
    private readonly ILogger _logger;

    public AuthPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<AuthOptions>();
        _logger = setup.Logger;
        _problems = setup.Services.GetService<IProblemDetailsService>();
        var time = setup.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        _consumerVar = options.ConsumerVar ?? "consumer";
        _consumerHeader = options.ConsumerHeader;
        _passCredentials = options.PassCredentials;
        if (_consumerHeader is not null)
        {
            SchemeValidation.HeaderName(_consumerHeader, "$.consumerHeader");
        }

        if (options.Schemes is not null && options.Scheme is null)
        {
            // Fields beside "schemes" would be silently ignored; a key meant for a scheme must sit inside it.
            SchemeValidation.OnlyFields(options, "$");
        }
        IReadOnlyList<(SchemeOptions Options, string Path)> declared = (options.Schemes, options.Scheme) switch
        {
            ({ Count: > 0 } schemes, null) => schemes.Select((scheme, i) => (scheme, $"$.schemes[{i}]")).ToArray(),
            (null, not null) => [(options, "$")],
            (not null, not null) => throw new PluginConfigurationException("$.scheme", "give one scheme inline or several under \"schemes\", not both"),
            _ => throw new PluginConfigurationException("$", "no scheme: give \"scheme\" (apikey, basic or jwt) or \"schemes\""),
        };
        var built = new List<IAuthScheme>();
        try
        {
            foreach (var (scheme, path) in declared)
            {
                built.Add(Create(scheme, path, setup.Logger, time));
            }
        }
        catch
        {
            built.OfType<IDisposable>().ToList().ForEach(scheme => scheme.Dispose());
            throw;
        }
        _schemes = [.. built];
        _accepted = new long[_schemes.Length];
        _acceptedNames = [.. declared.Select(scheme => "accepted:" + scheme.Options.Scheme)];
        _spoofableHeaders = [.. _schemes.OfType<JwtScheme>().SelectMany(jwt => jwt.ClaimHeaderNames), .. _consumerHeader is null ? [] : new[] { _consumerHeader }];
    }

    private static IAuthScheme Create(SchemeOptions options, string path, ILogger logger, TimeProvider time)
    {
        return options.Scheme switch
        {
            "apikey" => ApiKeyScheme.Create(options, path),
            "basic" => BasicScheme.Create(options, path),
            "jwt" => JwtScheme.Create(options, path, logger, time),
            _ => throw new PluginConfigurationException(path + ".scheme", $"'{options.Scheme}' is not a scheme; use apikey, basic or jwt"),
        };
    }

    /// <summary>
    /// Fetches every JWT scheme's JWKS before the pipeline serves, each within its own bound; a fetch that fails is
    /// logged and retried on demand, so it does not fail the reload (tokens signed with inline keys still pass).
    /// </summary>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken) =>
        await Task.WhenAll(_schemes.OfType<JwtScheme>().Select(scheme => scheme.LoadKeysAsync())).WaitAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.Request;
        foreach (var header in _spoofableHeaders)
        {
            request.Headers.Remove(header);
        }
        string? rejection = null;
        for (var i = 0; i < _schemes.Length; i++)
        {
            var pending = _schemes[i].AuthenticateAsync(context.HttpContext);
            if (!pending.IsCompletedSuccessfully)
            {
                return ContinueAsync(context, i, pending, rejection);
            }
            var outcome = pending.Result;
            if (outcome.Status == AuthStatus.Accepted)
            {
                Interlocked.Increment(ref _accepted[i]);
                Admit(context, _schemes[i], outcome);
                return new ValueTask<bool>(true);
            }
            rejection ??= outcome.Error;
        }
        return RejectAsync(context.HttpContext, rejection);
    }

    public void OnResponse(PluginContext context)
    {
        // Nothing on the way back: the credentials were dealt with on the way in.
    }

    /// <summary>
    /// Requests admitted by each kind of scheme (<c>accepted:apikey</c>, <c>accepted:basic</c>, <c>accepted:jwt</c>), and
    /// refused: <c>rejected:missing</c> (no credentials) or <c>rejected:invalid</c> (credentials not accepted).
    /// </summary>
    public IReadOnlyDictionary<string, long> Counters
    {
        get
        {
            var counters = new Dictionary<string, long>(StringComparer.Ordinal)
            {
                ["rejected:missing"] = Interlocked.Read(ref _missing),
                ["rejected:invalid"] = Interlocked.Read(ref _refused),
            };
            for (var i = 0; i < _accepted.Length; i++)
            {
                counters[_acceptedNames[i]] = counters.GetValueOrDefault(_acceptedNames[i]) + Interlocked.Read(ref _accepted[i]);
            }
            return counters;
        }
    }

    private async ValueTask<bool> ContinueAsync(PluginContext context, int index, ValueTask<AuthOutcome> pending, string? rejection)
    {
        for (var i = index; i < _schemes.Length; i++)
        {
            var outcome = i == index ? await pending.ConfigureAwait(false) : await _schemes[i].AuthenticateAsync(context.HttpContext).ConfigureAwait(false);
            if (outcome.Status == AuthStatus.Accepted)
            {
                Interlocked.Increment(ref _accepted[i]);
                Admit(context, _schemes[i], outcome);
                return true;
            }
            rejection ??= outcome.Error;
        }
        return await RejectAsync(context.HttpContext, rejection).ConfigureAwait(false);
    }

    private void Admit(PluginContext context, IAuthScheme scheme, AuthOutcome outcome)
    {
        var request = context.HttpContext.Request;
        context.Vars[_consumerVar] = outcome.Consumer;
        if (_consumerHeader is not null)
        {
            request.Headers[_consumerHeader] = outcome.Consumer;
        }
        if (outcome.Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                request.Headers[name] = value;
            }
        }
        if (outcome.Vars is { } vars)
        {
            foreach (var (name, value) in vars)
            {
                context.Vars[name] = value;
            }
        }
        if (!_passCredentials)
        {
            foreach (var each in _schemes)
            {
                each.RemoveCredentials(request);
            }
        }
    }

    // Answers 401 in the upstream's place; false: the request goes no further.
    private async ValueTask<bool> RejectAsync(HttpContext context, string? reason)
    {
        Interlocked.Increment(ref reason is null ? ref _missing : ref _refused);
        Log.Rejected(_logger, context.Request.Path.Value ?? "/", reason ?? "no credentials");
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers[HeaderNames.WWWAuthenticate] = _schemes.Select(scheme => scheme.Challenge).ToArray();
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status401Unauthorized,
            Title = "Unauthorized",
            Detail = reason is null ? "Credentials are required." : "The credentials were not accepted.",
        };
        if (_problems is null || !await _problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).ConfigureAwait(false))
        {
            response.ContentType = "application/problem+json";
            await response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json").ConfigureAwait(false);
        }
        return false;
    }

    public void Dispose()
    {
        foreach (var scheme in _schemes.OfType<IDisposable>())
        {
            scheme.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Rejected {Path}: {Reason}.")]
        public static partial void Rejected(ILogger logger, string path, string reason);
    }
}

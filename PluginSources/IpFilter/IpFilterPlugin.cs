using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.IpFilter;

/// <summary>
/// Lets a request through by its client's address: refused with 403 problem+json when a <c>deny</c> entry holds it
/// (deny wins), or when there is an <c>allow</c> list and no entry of it holds it. The address is the connection's, or
/// the one the gateway's trusted proxies forwarded (<c>Gateway:ForwardedHeaders</c>).
/// </summary>
[NonBlocking]
public sealed partial class IpFilterPlugin : IGatewayFilter
{
    private static readonly ValueTask<bool> Pass = new(true);

    private readonly AddressRanges? _allow;
    private readonly AddressRanges? _deny;
    private readonly IProblemDetailsService? _problems;
    private readonly ILogger _logger;

    public IpFilterPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<IpFilterOptions>();
        if (options.Allow is not { Length: > 0 } && options.Deny is not { Length: > 0 })
        {
            throw new PluginConfigurationException("$", "no rule: give \"allow\", \"deny\" or both, each a list of addresses and CIDR ranges");
        }
        _allow = options.Allow is { Length: > 0 } allow ? AddressRanges.Parse(allow, "$.allow") : null;
        _deny = options.Deny is { Length: > 0 } deny ? AddressRanges.Parse(deny, "$.deny") : null;
        _problems = setup.Services.GetService<IProblemDetailsService>();
        _logger = setup.Logger;
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        return IsAllowed(http.Connection.RemoteIpAddress is { } address ? AddressRanges.ToKey(address) : null)
            ? Pass
            : RefuseAsync(http);
    }

    public void OnResponse(PluginContext context)
    {
    }

    /// <summary>Deny wins; then an allow list must hold the address. No address (not an IP connection) passes only without an allow list.</summary>
    internal bool IsAllowed(UInt128? key) => key switch
    {
        null => _allow is null,
        { } address when _deny?.Contains(address) == true => false,
        { } address => _allow?.Contains(address) != false,
    };

    private async ValueTask<bool> RefuseAsync(HttpContext context)
    {
        Log.Refused(_logger, context.Connection.RemoteIpAddress?.ToString() ?? "(none)", context.Request.Path.Value ?? "/");
        var response = context.Response;
        response.StatusCode = StatusCodes.Status403Forbidden;
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status403Forbidden,
            Title = "Forbidden",
            Detail = "Requests from this address are not allowed.",
        };
        if (_problems is null || !await _problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).ConfigureAwait(false))
        {
            await response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json").ConfigureAwait(false);
        }
        return false;
    }

    private static partial class Log
    {
        // Debug: a denied address under attack must not turn into log volume.
        [LoggerMessage(1, LogLevel.Debug, "Refused {Address} for {Path}.")]
        public static partial void Refused(ILogger logger, string address, string path);
    }
}

using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.Extensions;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tls;

/// <summary>
/// A route's HTTPS rules, from its metadata: <c>"HttpsRedirect": "true"</c> sends a request that came over plain HTTP
/// to the same URL over HTTPS (308, so the method and body are kept) before anything else runs; <c>"Hsts": "max-age=…"</c>
/// puts that <c>Strict-Transport-Security</c> value on every answer the route gives over HTTPS, the origin's own
/// replaced and the gateway's errors included (RFC 6797 forbids it over plain HTTP).
/// </summary>
/// <param name="httpsPort">Where a redirect sends the client; read when one is made, the listeners' ports being known only once they listen.</param>
internal sealed class RouteHttps(Func<int> httpsPort)
{
    public const string RedirectKey = "HttpsRedirect";
    public const string HstsKey = "Hsts";

    // Read once per route configuration (a reload makes new ones), not per request; null for a route without either.
    private static readonly ConditionalWeakTable<RouteConfig, Rules?> RouteRules = new();

    private static readonly Func<object, Task> SetHsts = static state =>
    {
        var context = (HttpContext)state;
        context.Response.Headers.StrictTransportSecurity = RouteRules.GetValue(context.GetReverseProxyFeature().Route.Config, Read)!.Hsts;
        return Task.CompletedTask;
    };

    /// <summary>What is wrong with the route's values, for the reload's errors.</summary>
    public static IEnumerable<(string Key, string Problem)> Validate(RouteConfig route)
    {
        if (route.Metadata?.TryGetValue(RedirectKey, out var redirect) == true && !bool.TryParse(redirect, out _))
        {
            yield return (RedirectKey, $"must be \"true\" or \"false\", not '{redirect}'");
        }
        if (route.Metadata?.TryGetValue(HstsKey, out var hsts) == true && !HasMaxAge(hsts))
        {
            yield return (HstsKey, $"must be a Strict-Transport-Security value with max-age (RFC 6797), such as \"max-age=31536000; includeSubDomains\", not '{hsts}'");
        }
    }

    /// <summary>In YARP's proxy pipeline, first.</summary>
    public Task ApplyAsync(HttpContext context, RequestDelegate next)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        if (route.Metadata is not { Count: > 0 } || RouteRules.GetValue(route, Read) is not { } rules)
        {
            return next(context);
        }
        if (!context.Request.IsHttps)
        {
            if (rules.Redirect)
            {
                Redirect(context);
                return Task.CompletedTask;
            }
            return next(context);
        }
        if (rules.Hsts is not null)
        {
            context.Response.OnStarting(SetHsts, context);
        }
        return next(context);
    }

    private void Redirect(HttpContext context)
    {
        var request = context.Request;
        if (!request.Host.HasValue)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        var port = httpsPort();
        var host = port == 443 ? new HostString(request.Host.Host) : new HostString(request.Host.Host, port);
        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = UriHelper.BuildAbsolute("https", host, request.PathBase, request.Path, request.QueryString);
    }

    // Validate has refused values that do not parse before the route could serve.
    private static Rules? Read(RouteConfig route)
    {
        var redirect = route.Metadata!.TryGetValue(RedirectKey, out var value) && bool.TryParse(value, out var parsed) && parsed;
        var hsts = route.Metadata.TryGetValue(HstsKey, out var hstsValue) ? hstsValue : null;
        return redirect || hsts is not null ? new Rules(redirect, hsts) : null;
    }

    private static bool HasMaxAge(string? value) =>
        value?.Split(';', StringSplitOptions.TrimEntries).Any(directive =>
            directive.StartsWith("max-age=", StringComparison.OrdinalIgnoreCase)
            && uint.TryParse(directive.AsSpan("max-age=".Length).Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out _)) == true;

    private sealed record Rules(bool Redirect, string? Hsts);
}

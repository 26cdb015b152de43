using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Protection;

/// <summary>
/// A route's own request body limit, from its metadata (<c>"Metadata": { "MaxRequestBodySize": "1048576" }</c>, bytes,
/// or <c>"none"</c>), in place of Kestrel's server-wide <c>Kestrel:Limits:MaxRequestBodySize</c>: an upload route may
/// take more, an API route less. A body past it gets 413 before the upstream has read it whole.
/// </summary>
internal static class RouteBodySizeLimit
{
    public const string MetadataKey = "MaxRequestBodySize";

    // Parsed once per route configuration (a reload makes new ones), not per request; null for a route without one.
    private static readonly ConditionalWeakTable<RouteConfig, StrongBox<long?>?> Limits = new();

    /// <summary>What is wrong with the route's value, for the reload's errors; null when it is fine or absent.</summary>
    public static string? Validate(RouteConfig route) =>
        route.Metadata?.TryGetValue(MetadataKey, out var value) != true || TryParse(value, out _)
            ? null
            : $"Metadata:{MetadataKey} must be a number of bytes (0 or more) or \"none\", not '{value}'";

    /// <summary>In YARP's proxy pipeline, before anything reads the body.</summary>
    public static Task ApplyAsync(HttpContext context, RequestDelegate next)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        if (route.Metadata is { Count: > 0 } && Limits.GetValue(route, Parse) is { } limit
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit.Value;
        }
        return next(context);
    }

    // Validate has refused a value that does not parse before the route could serve.
    private static StrongBox<long?>? Parse(RouteConfig route) =>
        route.Metadata!.TryGetValue(MetadataKey, out var value) && TryParse(value, out var limit) ? new StrongBox<long?>(limit) : null;

    private static bool TryParse(string? value, out long? limit)
    {
        if (string.Equals(value, "none", StringComparison.OrdinalIgnoreCase))
        {
            limit = null;
            return true;
        }
        var parsed = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes);
        limit = bytes;
        return parsed;
    }
}

using Yarp.ReverseProxy.Configuration;

namespace Gateway.AccessLog;

/// <summary>A route's switch: <c>"AccessLog": "false"</c> in its metadata leaves its requests out of the access log.</summary>
internal static class RouteAccessLog
{
    public const string MetadataKey = "AccessLog";

    public static bool IsOff(RouteConfig route) =>
        route.Metadata is { } metadata && metadata.TryGetValue(MetadataKey, out var value) && string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>What is wrong with the route's switch, if anything.</summary>
    public static string? Validate(RouteConfig route) =>
        route.Metadata is { } metadata && metadata.TryGetValue(MetadataKey, out var value) && !bool.TryParse(value, out _)
            ? $"'{value}' is not true or false."
            : null;
}

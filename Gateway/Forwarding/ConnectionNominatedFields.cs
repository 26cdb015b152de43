using Yarp.ReverseProxy.Transforms;

namespace Gateway.Forwarding;

/// <summary>
/// RFC 9110 §7.6.1: the fields a message's <c>Connection</c> header names are hop-by-hop, meant for that connection
/// only. YARP drops <c>Connection</c> itself and the standard hop-by-hop fields but forwards the fields it names, so a
/// client could pass the origin a field the gateway never meant to (or an origin one to the client and to the cache).
/// These transforms remove them, on every route, in both directions, before any pipeline stage sees the response.
/// </summary>
/// <remarks>
/// <c>keep-alive</c> and <c>close</c> are connection options, not fields to find; <c>Upgrade</c> stays for YARP, which
/// carries a protocol upgrade (WebSockets) through itself.
/// </remarks>
internal static class ConnectionNominatedFields
{
    /// <summary>Removes from the outgoing request the fields the client's <c>Connection</c> named.</summary>
    public static ValueTask RemoveFromRequestAsync(RequestTransformContext context)
    {
        var connection = context.HttpContext.Request.Headers.Connection;
        foreach (var value in connection)
        {
            var options = (value ?? "").AsSpan();
            foreach (var range in options.Split(','))
            {
                if (Nominated(options[range]) is { } name && !context.ProxyRequest.Headers.Remove(name))
                {
                    context.ProxyRequest.Content?.Headers.Remove(name);
                }
            }
        }
        return default;
    }

    /// <summary>Removes from the client's response the fields the origin's <c>Connection</c> named.</summary>
    public static ValueTask RemoveFromResponseAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } upstream || !upstream.Headers.TryGetValues("Connection", out var connection))
        {
            return default;
        }
        var response = context.HttpContext.Response.Headers;
        foreach (var value in connection)
        {
            var options = value.AsSpan();
            foreach (var range in options.Split(','))
            {
                if (Nominated(options[range]) is { } name)
                {
                    response.Remove(name);
                }
            }
        }
        return default;
    }

    // A field name to remove, or null for an empty member or a connection option; a string only for a real one.
    private static string? Nominated(ReadOnlySpan<char> option)
    {
        option = option.Trim();
        return option.IsEmpty
            || option.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
            || option.Equals("close", StringComparison.OrdinalIgnoreCase)
            || option.Equals("upgrade", StringComparison.OrdinalIgnoreCase)
            ? null
            : option.ToString();
    }
}

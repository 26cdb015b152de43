using System.Text;
using Microsoft.Extensions.Primitives;

namespace Gateway.Plugins.RateLimit;

/// <summary>
/// What a limit counts by, parsed once: each request's key is the client address, the route, a header's value or a
/// <c>vars</c> entry, or those joined. A request that lacks a part (no such header, no such var) has no key, and the
/// limit does not count it.
/// </summary>
internal sealed class LimitKey
{
    private readonly Part[] _parts;

    private LimitKey(Part[] parts, string text)
    {
        _parts = parts;
        Text = text;
    }

    public string Text { get; }

    /// <exception cref="PluginConfigurationException">A part is not one of the kinds.</exception>
    public static LimitKey Parse(string? text, string path)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new PluginConfigurationException(path, "give what the limit counts by: clientIp, route, header:NAME, var:NAME, or several joined with +");
        }
        var parts = text.Split('+', StringSplitOptions.TrimEntries).Select(part => part switch
        {
            "clientIp" => new Part(PartKind.ClientIp, ""),
            "route" => new Part(PartKind.Route, ""),
            _ when part.StartsWith("header:", StringComparison.Ordinal) && part.Length > 7 => new Part(PartKind.Header, part[7..]),
            _ when part.StartsWith("var:", StringComparison.Ordinal) && part.Length > 4 => new Part(PartKind.Var, part[4..]),
            _ => throw new PluginConfigurationException(path, $"'{part}' is not clientIp, route, header:NAME or var:NAME"),
        }).ToArray();
        return new LimitKey(parts, text);
    }

    /// <summary>The request's key: an object that compares by value (the address, or a string); null without one.</summary>
    public object? Of(PluginContext context) => _parts.Length == 1 ? Value(_parts[0], context) : Joined(context);

    private string? Joined(PluginContext context)
    {
        var joined = new StringBuilder();
        foreach (var part in _parts)
        {
            if (Value(part, context) is not { } value)
            {
                return null;
            }
            // A separator no header or address contains, so "a"+"bc" and "ab"+"c" stay apart.
            joined.Append(value).Append('\u001f');
        }
        return joined.ToString();
    }

    private static object? Value(Part part, PluginContext context) => part.Kind switch
    {
        PartKind.ClientIp => context.HttpContext.Connection.RemoteIpAddress,
        PartKind.Route => context.RouteId,
        PartKind.Header => context.HttpContext.Request.Headers.TryGetValue(part.Name, out var values) && !StringValues.IsNullOrEmpty(values) ? values.ToString() : null,
        _ => context.Vars.TryGetValue(part.Name, out var value) ? value?.ToString() : null,
    };

    private enum PartKind
    {
        ClientIp,
        Route,
        Header,
        Var,
    }

    private readonly record struct Part(PartKind Kind, string Name);
}

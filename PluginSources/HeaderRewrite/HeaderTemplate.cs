using System.Text;

namespace Gateway.Plugins.HeaderRewrite;

/// <summary>
/// A header value with placeholders, parsed once at load: <c>{route}</c>, <c>{cluster}</c>, <c>{clientIp}</c>,
/// <c>{requestId}</c>, <c>{var:NAME}</c>; <c>{{</c> and <c>}}</c> are literal braces. A template without placeholders
/// renders to the same string every time, allocating nothing.
/// </summary>
internal sealed class HeaderTemplate
{
    private readonly Segment[] _segments;
    private readonly string? _literal;

    private HeaderTemplate(Segment[] segments)
    {
        _segments = segments;
        _literal = segments switch
        {
            [] => string.Empty,
            [{ Kind: SegmentKind.Literal } only] => only.Text,
            _ => null,
        };
    }

    /// <exception cref="PluginConfigurationException">An unknown or unclosed placeholder.</exception>
    public static HeaderTemplate Parse(string template, string path)
    {
        var segments = new List<Segment>();
        var literal = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{' || c == '}' && i + 1 < template.Length && template[i + 1] == '}')
            {
                literal.Append(c);
                i++;
                continue;
            }
            if (c == '}')
            {
                throw new PluginConfigurationException(path, $"'}}' at {i} closes no placeholder; write '}}}}' for a literal brace.");
            }
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            var end = template.IndexOf('}', i + 1);
            if (end < 0)
            {
                throw new PluginConfigurationException(path, $"the placeholder at {i} is not closed; write '{{{{' for a literal brace.");
            }
            if (literal.Length > 0)
            {
                segments.Add(new Segment(SegmentKind.Literal, literal.ToString()));
                literal.Clear();
            }
            segments.Add(ParsePlaceholder(template[(i + 1)..end], path));
            i = end;
        }
        if (literal.Length > 0)
        {
            segments.Add(new Segment(SegmentKind.Literal, literal.ToString()));
        }
        return new HeaderTemplate([.. segments]);
    }

    private static Segment ParsePlaceholder(string name, string path) => name switch
    {
        "route" => new Segment(SegmentKind.Route, name),
        "cluster" => new Segment(SegmentKind.Cluster, name),
        "clientIp" => new Segment(SegmentKind.ClientIp, name),
        "requestId" => new Segment(SegmentKind.RequestId, name),
        _ when name.StartsWith("var:", StringComparison.Ordinal) && name.Length > 4 => new Segment(SegmentKind.Var, name[4..]),
        _ => throw new PluginConfigurationException(path, $"unknown placeholder '{{{name}}}'; expected {{route}}, {{cluster}}, {{clientIp}}, {{requestId}} or {{var:NAME}}."),
    };

    public string Render(PluginContext context)
    {
        if (_literal is not null)
        {
            return _literal;
        }
        if (_segments.Length == 1)
        {
            return Resolve(_segments[0], context);
        }
        var builder = new StringBuilder();
        foreach (var segment in _segments)
        {
            builder.Append(Resolve(segment, context));
        }
        return builder.ToString();
    }

    private static string Resolve(Segment segment, PluginContext context) => segment.Kind switch
    {
        SegmentKind.Literal => segment.Text,
        SegmentKind.Route => context.RouteId,
        SegmentKind.Cluster => context.ClusterId,
        SegmentKind.ClientIp => context.HttpContext.Connection.RemoteIpAddress?.ToString() ?? string.Empty,
        SegmentKind.RequestId => context.HttpContext.TraceIdentifier,
        SegmentKind.Var => context.Vars.TryGetValue(segment.Text, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty : string.Empty,
        _ => string.Empty,
    };

    private enum SegmentKind
    {
        Literal,
        Route,
        Cluster,
        ClientIp,
        RequestId,
        Var,
    }

    private readonly record struct Segment(SegmentKind Kind, string Text);
}

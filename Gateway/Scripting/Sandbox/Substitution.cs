using System.Text;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;

namespace Gateway.Scripting.Sandbox;

/// <summary>
/// A replacement template parsed as GetSubstitution (ECMA-262 §22.1.3.19.1) reads it: literal text and the references
/// <c>$$</c>, <c>$&amp;</c>, <c>$`</c>, <c>$'</c>, <c>$1</c>–<c>$99</c> and <c>$&lt;name&gt;</c>. Parsed once per
/// call, so what one match is replaced with, and its length, cost a pass over the references rather than the text.
/// </summary>
internal sealed class Substitution
{
    private readonly List<Part> _parts = [];

    /// <param name="template">The replacement string.</param>
    /// <param name="captureCount">How many capture groups the matches have: <c>$12</c> is a two-digit reference only up to this.</param>
    /// <param name="hasGroups">Whether the matches have named groups: <c>$&lt;</c> is literal otherwise.</param>
    public Substitution(string template, int captureCount, bool hasGroups)
    {
        var rest = template.AsSpan();
        var literal = new StringBuilder();
        while (!rest.IsEmpty)
        {
            var (used, kind, index, name) = Reference(rest, captureCount, hasGroups);
            if (kind == Kind.Literal)
            {
                // "$$" stands for one "$"; any other literal for itself.
                literal.Append(used == 2 && rest[1] == '$' ? rest[..1] : rest[..used]);
            }
            else
            {
                Flush(literal);
                _parts.Add(new Part(kind, index, name));
            }
            rest = rest[used..];
        }
        Flush(literal);
        LiteralLength = _parts.Where(part => part.Kind == Kind.Literal).Sum(part => part.Text!.Length);
        HasReferences = _parts.Any(part => part.Kind != Kind.Literal);
    }

    /// <summary>Characters the template contributes whatever the match.</summary>
    public int LiteralLength { get; }

    /// <summary>Whether anything but literal text is in the template.</summary>
    public bool HasReferences { get; }

    /// <summary>The length of what replaces one match.</summary>
    public double Length(string matched, int position, string text, ReadOnlySpan<JsValue> captures, ObjectInstance? groups)
    {
        double length = LiteralLength;
        foreach (var part in _parts)
        {
            length += part.Kind switch
            {
                Kind.Match => matched.Length,
                Kind.Prefix => position,
                Kind.Suffix => text.Length - Math.Min(position + matched.Length, text.Length),
                Kind.Capture => Capture(captures[part.Index - 1]).Length,
                Kind.Named => Named(groups!, part.Text!).Length,
                _ => 0,
            };
        }
        return length;
    }

    /// <summary>What replaces one match.</summary>
    public string Build(string matched, int position, string text, ReadOnlySpan<JsValue> captures, ObjectInstance? groups)
    {
        var result = new StringBuilder();
        foreach (var part in _parts)
        {
            _ = part.Kind switch
            {
                Kind.Literal => result.Append(part.Text),
                Kind.Match => result.Append(matched),
                Kind.Prefix => result.Append(text.AsSpan(0, position)),
                Kind.Suffix => result.Append(text.AsSpan(Math.Min(position + matched.Length, text.Length))),
                Kind.Capture => result.Append(Capture(captures[part.Index - 1])),
                _ => result.Append(Named(groups!, part.Text!)),
            };
        }
        return result.ToString();
    }

    private void Flush(StringBuilder literal)
    {
        if (literal.Length > 0)
        {
            _parts.Add(new Part(Kind.Literal, 0, literal.ToString()));
            literal.Clear();
        }
    }

    private static string Capture(JsValue capture) => capture.IsUndefined() ? string.Empty : TypeConverter.ToString(capture);

    private static string Named(ObjectInstance groups, string name) => Capture(groups.Get(name));

    // The reference at the start of rest: how many characters it takes, what it stands for.
    private static (int Used, Kind Kind, int Index, string? Name) Reference(ReadOnlySpan<char> rest, int captureCount, bool hasGroups)
    {
        if (rest[0] != '$' || rest.Length == 1)
        {
            return (1, Kind.Literal, 0, null);
        }
        switch (rest[1])
        {
            case '$':
                return (2, Kind.Literal, 0, null);
            case '&':
                return (2, Kind.Match, 0, null);
            case '`':
                return (2, Kind.Prefix, 0, null);
            case '\'':
                return (2, Kind.Suffix, 0, null);
            case '<':
                var close = rest.IndexOf('>');
                return close < 0 || !hasGroups ? (2, Kind.Literal, 0, null) : (close + 1, Kind.Named, 0, rest[2..close].ToString());
            default:
                break;
        }
        if (!char.IsAsciiDigit(rest[1]))
        {
            return (1, Kind.Literal, 0, null);
        }
        var digits = rest.Length > 2 && char.IsAsciiDigit(rest[2]) ? 2 : 1;
        var index = digits == 2 ? (rest[1] - '0') * 10 + (rest[2] - '0') : rest[1] - '0';
        if (index > captureCount && digits == 2)
        {
            // A two-digit reference beyond the captures is a one-digit one followed by a literal digit.
            (digits, index) = (1, rest[1] - '0');
        }
        return index >= 1 && index <= captureCount ? (1 + digits, Kind.Capture, index, null) : (1 + digits, Kind.Literal, 0, null);
    }

    private enum Kind
    {
        Literal,
        Match,
        Prefix,
        Suffix,
        Capture,
        Named,
    }

    private sealed record Part(Kind Kind, int Index, string? Text);
}

namespace Gateway.Plugins.Caching;

/// <summary>The kinds of value a Structured Field item has (RFC 8941 §3.3).</summary>
internal enum StructuredKind
{
    Integer,
    Decimal,
    String,
    Token,
    ByteSequence,
    Boolean,
    InnerList,
}

/// <summary>One dictionary member: its key and its value (parameters are parsed, then dropped: no directive has any).</summary>
internal readonly record struct StructuredMember(string Key, StructuredKind Kind, long Integer = 0, string? Text = null, bool Boolean = false);

/// <summary>
/// An RFC 8941 Dictionary, as targeted cache-control fields such as <c>CDN-Cache-Control</c> are (RFC 9213 §2.1): parsed
/// strictly, all or nothing, so an invalid field can be ignored as a whole. A key repeated keeps its last value.
/// </summary>
internal static class StructuredDictionary
{
    /// <summary>The members of the field's lines, joined as one list; false when any part is not valid.</summary>
    public static bool TryParse(IEnumerable<string?> lines, out List<StructuredMember> members)
    {
        members = [];
        var text = string.Join(", ", lines).AsSpan().Trim(' ');
        var at = 0;
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        while (at < text.Length)
        {
            if (!TryKey(text, ref at, out var key))
            {
                return false;
            }
            StructuredMember member;
            if (at < text.Length && text[at] == '=')
            {
                at++;
                if (!TryValue(text, ref at, key, out member))
                {
                    return false;
                }
            }
            else
            {
                member = new StructuredMember(key, StructuredKind.Boolean, Boolean: true);
            }
            if (!TryParameters(text, ref at))
            {
                return false;
            }
            if (byKey.TryGetValue(key, out var index))
            {
                members[index] = member;
            }
            else
            {
                byKey[key] = members.Count;
                members.Add(member);
            }
            SkipOws(text, ref at);
            if (at == text.Length)
            {
                return true;
            }
            if (text[at] != ',')
            {
                return false;
            }
            at++;
            SkipOws(text, ref at);
            if (at == text.Length)
            {
                return false; // a trailing comma
            }
        }
        return true;
    }

    private static bool TryValue(ReadOnlySpan<char> text, ref int at, string key, out StructuredMember member)
    {
        member = default;
        if (at < text.Length && text[at] == '(')
        {
            // An inner list: items separated by spaces, with parameters. No directive takes one; it is checked and kept as a kind.
            at++;
            while (true)
            {
                while (at < text.Length && text[at] == ' ')
                {
                    at++;
                }
                if (at < text.Length && text[at] == ')')
                {
                    at++;
                    member = new StructuredMember(key, StructuredKind.InnerList);
                    return TryParameters(text, ref at);
                }
                if (!TryBareItem(text, ref at, key, out _) || !TryParameters(text, ref at) || at == text.Length || (text[at] != ' ' && text[at] != ')'))
                {
                    return false;
                }
            }
        }
        return TryBareItem(text, ref at, key, out member);
    }

    private static bool TryBareItem(ReadOnlySpan<char> text, ref int at, string key, out StructuredMember member)
    {
        member = default;
        if (at == text.Length)
        {
            return false;
        }
        var c = text[at];
        if (c == '-' || char.IsAsciiDigit(c))
        {
            return TryNumber(text, ref at, key, out member);
        }
        if (c == '"')
        {
            return TryString(text, ref at, key, out member);
        }
        if (c == '?')
        {
            if (at + 1 < text.Length && text[at + 1] is '0' or '1')
            {
                member = new StructuredMember(key, StructuredKind.Boolean, Boolean: text[at + 1] == '1');
                at += 2;
                return true;
            }
            return false;
        }
        if (c == ':')
        {
            var end = text[(at + 1)..].IndexOf(':');
            if (end < 0 || text.Slice(at + 1, end).ContainsAnyExcept(Base64))
            {
                return false;
            }
            member = new StructuredMember(key, StructuredKind.ByteSequence);
            at += end + 2;
            return true;
        }
        if (char.IsAsciiLetter(c) || c == '*')
        {
            var start = at++;
            while (at < text.Length && (IsTChar(text[at]) || text[at] is ':' or '/'))
            {
                at++;
            }
            member = new StructuredMember(key, StructuredKind.Token, Text: text[start..at].ToString());
            return true;
        }
        return false;
    }

    private static bool TryNumber(ReadOnlySpan<char> text, ref int at, string key, out StructuredMember member)
    {
        member = default;
        var start = at;
        if (text[at] == '-')
        {
            at++;
        }
        var digitsStart = at;
        while (at < text.Length && char.IsAsciiDigit(text[at]))
        {
            at++;
        }
        var whole = at - digitsStart;
        if (whole == 0)
        {
            return false;
        }
        if (at < text.Length && text[at] == '.')
        {
            at++;
            var fractionStart = at;
            while (at < text.Length && char.IsAsciiDigit(text[at]))
            {
                at++;
            }
            var fraction = at - fractionStart;
            if (whole > 12 || fraction is 0 or > 3)
            {
                return false;
            }
            member = new StructuredMember(key, StructuredKind.Decimal, Text: text[start..at].ToString());
            return true;
        }
        if (whole > 15)
        {
            return false;
        }
        member = new StructuredMember(key, StructuredKind.Integer, Integer: long.Parse(text[start..at], System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }

    private static bool TryString(ReadOnlySpan<char> text, ref int at, string key, out StructuredMember member)
    {
        member = default;
        var value = new System.Text.StringBuilder();
        for (at++; at < text.Length; at++)
        {
            var c = text[at];
            if (c == '\\')
            {
                if (at + 1 == text.Length || text[at + 1] is not ('"' or '\\'))
                {
                    return false;
                }
                value.Append(text[++at]);
            }
            else if (c == '"')
            {
                at++;
                member = new StructuredMember(key, StructuredKind.String, Text: value.ToString());
                return true;
            }
            else if (c < 0x20 || c > 0x7E)
            {
                return false;
            }
            else
            {
                value.Append(c);
            }
        }
        return false;
    }

    private static bool TryParameters(ReadOnlySpan<char> text, ref int at)
    {
        while (at < text.Length && text[at] == ';')
        {
            at++;
            while (at < text.Length && text[at] == ' ')
            {
                at++;
            }
            if (!TryKey(text, ref at, out var key))
            {
                return false;
            }
            if (at < text.Length && text[at] == '=')
            {
                at++;
                if (!TryBareItem(text, ref at, key, out _))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static bool TryKey(ReadOnlySpan<char> text, ref int at, out string key)
    {
        key = "";
        var start = at;
        if (at == text.Length || !(char.IsAsciiLetterLower(text[at]) || text[at] == '*'))
        {
            return false;
        }
        at++;
        while (at < text.Length && (char.IsAsciiLetterLower(text[at]) || char.IsAsciiDigit(text[at]) || text[at] is '_' or '-' or '.' or '*'))
        {
            at++;
        }
        key = text[start..at].ToString();
        return true;
    }

    private static void SkipOws(ReadOnlySpan<char> text, ref int at)
    {
        while (at < text.Length && text[at] is ' ' or '\t')
        {
            at++;
        }
    }

    private static bool IsTChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    private static readonly System.Buffers.SearchValues<char> Base64 =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
}

using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Plugins.Caching;

/// <summary>The <c>Cache-Control</c> directives (RFC 9111 §5.2) of a request or a response.</summary>
internal readonly record struct CacheControl
{
    /// <summary>A delta-seconds value that was absent.</summary>
    public const int Absent = -1;

    /// <summary>The largest delta-seconds a cache must understand (RFC 9111 §1.2.2).</summary>
    public const int MaxDelta = int.MaxValue;

    public bool NoStore { get; init; }

    /// <summary>Unqualified <c>no-cache</c>: the whole response must be revalidated before each use.</summary>
    public bool NoCache { get; init; }

    /// <summary>Qualified <c>no-cache="a, b"</c>: these fields must not be reused without revalidation.</summary>
    public string[]? NoCacheFields { get; init; }

    /// <summary>Unqualified <c>private</c>: a shared cache must not store the response.</summary>
    public bool Private { get; init; }

    /// <summary>Qualified <c>private="a, b"</c>: a shared cache must not store these fields.</summary>
    public string[]? PrivateFields { get; init; }

    public bool Public { get; init; }

    public bool MustRevalidate { get; init; }

    public bool ProxyRevalidate { get; init; }

    public bool OnlyIfCached { get; init; }

    public int MaxAge { get; init; }

    public int SharedMaxAge { get; init; }

    public int MaxStale { get; init; }

    public int MinFresh { get; init; }

    public int StaleWhileRevalidate { get; init; }

    public int StaleIfError { get; init; }

    public static CacheControl None { get; } = new()
    {
        MaxAge = Absent, SharedMaxAge = Absent, MaxStale = Absent, MinFresh = Absent, StaleWhileRevalidate = Absent, StaleIfError = Absent,
    };

    /// <summary>A request's directives: its <c>Cache-Control</c>, or <c>Pragma: no-cache</c> when that is absent (RFC 9111 §5.4).</summary>
    public static CacheControl OfRequest(IHeaderDictionary headers)
    {
        var cacheControl = headers.CacheControl;
        if (StringValues.IsNullOrEmpty(cacheControl))
        {
            var pragma = headers.Pragma;
            return !StringValues.IsNullOrEmpty(pragma) && pragma.ToString().Contains("no-cache", StringComparison.OrdinalIgnoreCase)
                ? None with { NoCache = true }
                : None;
        }
        return Parse(cacheControl);
    }

    /// <summary>
    /// Parses every <c>Cache-Control</c> field line. Unknown directives are ignored; a repeated directive keeps its
    /// first value (RFC 9111 §4.2.1); a malformed delta-seconds counts as 0, the conservative reading (stale, revalidate)
    /// §1.2.2 allows, except that a fraction (<c>3600.5</c>) counts as its whole seconds.
    /// </summary>
    public static CacheControl Parse(StringValues values)
    {
        if (StringValues.IsNullOrEmpty(values))
        {
            return None;
        }
        var result = None;
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var directive = NextDirective(ref rest).Trim();
                var equals = directive.IndexOf('=');
                // "max-age =1" and "max-age= 1" are not the max-age directive: no whitespace around '=' (§5.2).
                var name = equals < 0 ? directive : directive[..equals];
                var argument = equals < 0 ? ReadOnlySpan<char>.Empty : directive[(equals + 1)..];
                result = Apply(result, name, argument, equals >= 0);
            }
        }
        return result;
    }

    // Splits at the next comma outside a quoted string.
    private static ReadOnlySpan<char> NextDirective(ref ReadOnlySpan<char> rest)
    {
        var quoted = false;
        for (var i = 0; i < rest.Length; i++)
        {
            var c = rest[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '\\' && quoted)
            {
                i++;
            }
            else if (c == ',' && !quoted)
            {
                var directive = rest[..i];
                rest = rest[(i + 1)..];
                return directive;
            }
        }
        var last = rest;
        rest = [];
        return last;
    }

    private static CacheControl Apply(CacheControl result, ReadOnlySpan<char> name, ReadOnlySpan<char> argument, bool hasArgument) => name switch
    {
        _ when Is(name, "no-store") => result with { NoStore = true },
        _ when Is(name, "no-cache") => hasArgument
            ? result with { NoCacheFields = [.. result.NoCacheFields ?? [], .. FieldNames(argument)] }
            : result with { NoCache = true },
        _ when Is(name, "private") => hasArgument
            ? result with { PrivateFields = [.. result.PrivateFields ?? [], .. FieldNames(argument)] }
            : result with { Private = true },
        _ when Is(name, "public") => result with { Public = true },
        _ when Is(name, "must-revalidate") => result with { MustRevalidate = true },
        _ when Is(name, "proxy-revalidate") => result with { ProxyRevalidate = true },
        _ when Is(name, "only-if-cached") => result with { OnlyIfCached = true },
        _ when Is(name, "max-age") => result with { MaxAge = First(result.MaxAge, argument) },
        _ when Is(name, "s-maxage") => result with { SharedMaxAge = First(result.SharedMaxAge, argument) },
        // A bare max-stale accepts any staleness.
        _ when Is(name, "max-stale") => result with { MaxStale = hasArgument ? First(result.MaxStale, argument) : MaxDelta },
        _ when Is(name, "min-fresh") => result with { MinFresh = First(result.MinFresh, argument) },
        _ when Is(name, "stale-while-revalidate") => result with { StaleWhileRevalidate = First(result.StaleWhileRevalidate, argument) },
        _ when Is(name, "stale-if-error") => result with { StaleIfError = First(result.StaleIfError, argument) },
        _ => result,
    };

    /// <summary>
    /// The directives of a targeted field such as <c>CDN-Cache-Control</c> (RFC 9213 §2.1), an RFC 8941 dictionary:
    /// delta-seconds are integers, flags are bare keys (a flag set to <c>?0</c> is off), the field lists of
    /// <c>private</c> and <c>no-cache</c> strings. A directive whose value has another type is ignored.
    /// </summary>
    public static CacheControl FromTargeted(IReadOnlyList<StructuredMember> members)
    {
        var result = None;
        foreach (var member in members)
        {
            var on = member is { Kind: StructuredKind.Boolean, Boolean: true };
            var seconds = member is { Kind: StructuredKind.Integer, Integer: >= 0 } ? (int)Math.Min(member.Integer, MaxDelta) : Absent;
            var fields = member.Kind == StructuredKind.String
                ? member.Text!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                : null;
            result = member.Key switch
            {
                "max-age" when seconds != Absent => result with { MaxAge = seconds },
                "s-maxage" when seconds != Absent => result with { SharedMaxAge = seconds },
                "stale-while-revalidate" when seconds != Absent => result with { StaleWhileRevalidate = seconds },
                "stale-if-error" when seconds != Absent => result with { StaleIfError = seconds },
                "no-store" when on => result with { NoStore = true },
                "no-cache" when on => result with { NoCache = true },
                "no-cache" when fields is not null => result with { NoCacheFields = fields },
                "private" when on => result with { Private = true },
                "private" when fields is not null => result with { PrivateFields = fields },
                "public" when on => result with { Public = true },
                "must-revalidate" when on => result with { MustRevalidate = true },
                "proxy-revalidate" when on => result with { ProxyRevalidate = true },
                _ => result,
            };
        }
        return result;
    }

    private static bool Is(ReadOnlySpan<char> name, string directive) => name.Equals(directive, StringComparison.OrdinalIgnoreCase);

    private static int First(int current, ReadOnlySpan<char> argument) => current == Absent ? Delta(argument) : current;

    private static string[] FieldNames(ReadOnlySpan<char> argument) =>
        Unquote(argument).ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> argument) =>
        argument.Length >= 2 && argument[0] == '"' && argument[^1] == '"' ? argument[1..^1] : argument;

    private static int Delta(ReadOnlySpan<char> argument)
    {
        argument = Unquote(argument);
        var dot = argument.IndexOf('.');
        if (dot > 0 && dot < argument.Length - 1 && !argument[(dot + 1)..].ContainsAnyExceptInRange('0', '9'))
        {
            argument = argument[..dot];
        }
        if (argument.IsEmpty || argument.ContainsAnyExceptInRange('0', '9'))
        {
            return 0;
        }
        long value = 0;
        foreach (var c in argument)
        {
            value = Math.Min(value * 10 + (c - '0'), MaxDelta);
        }
        return (int)value;
    }
}

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

    public bool NoCache { get; init; }

    public bool Private { get; init; }

    public bool Public { get; init; }

    public bool MustRevalidate { get; init; }

    public bool ProxyRevalidate { get; init; }

    public bool OnlyIfCached { get; init; }

    public int MaxAge { get; init; }

    public int SharedMaxAge { get; init; }

    public int MaxStale { get; init; }

    public int MinFresh { get; init; }

    public int StaleWhileRevalidate { get; init; }

    public static CacheControl None { get; } = new()
    {
        MaxAge = Absent, SharedMaxAge = Absent, MaxStale = Absent, MinFresh = Absent, StaleWhileRevalidate = Absent,
    };

    /// <summary>
    /// Parses every <c>Cache-Control</c> field line. Unknown directives are ignored; a malformed delta-seconds counts
    /// as 0, the conservative reading (stale, revalidate) RFC 9111 §1.2.2 allows; qualified <c>no-cache</c> and
    /// <c>private</c> act as their unqualified forms, which is stricter than required and never wrong.
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
                var directive = NextDirective(ref rest);
                var equals = directive.IndexOf('=');
                var name = (equals < 0 ? directive : directive[..equals]).Trim();
                var argument = equals < 0 ? ReadOnlySpan<char>.Empty : directive[(equals + 1)..].Trim();
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
        _ when Is(name, "no-cache") => result with { NoCache = true },
        _ when Is(name, "private") => result with { Private = true },
        _ when Is(name, "public") => result with { Public = true },
        _ when Is(name, "must-revalidate") => result with { MustRevalidate = true },
        _ when Is(name, "proxy-revalidate") => result with { ProxyRevalidate = true },
        _ when Is(name, "only-if-cached") => result with { OnlyIfCached = true },
        _ when Is(name, "max-age") => result with { MaxAge = Min(result.MaxAge, Delta(argument)) },
        _ when Is(name, "s-maxage") => result with { SharedMaxAge = Min(result.SharedMaxAge, Delta(argument)) },
        // A bare max-stale accepts any staleness.
        _ when Is(name, "max-stale") => result with { MaxStale = hasArgument ? Delta(argument) : MaxDelta },
        _ when Is(name, "min-fresh") => result with { MinFresh = Delta(argument) },
        _ when Is(name, "stale-while-revalidate") => result with { StaleWhileRevalidate = Delta(argument) },
        _ => result,
    };

    private static bool Is(ReadOnlySpan<char> name, string directive) => name.Equals(directive, StringComparison.OrdinalIgnoreCase);

    // When a directive repeats with different values, the shorter lifetime is the safe one.
    private static int Min(int current, int next) => current == Absent ? next : Math.Min(current, next);

    private static int Delta(ReadOnlySpan<char> argument)
    {
        if (argument.Length >= 2 && argument[0] == '"' && argument[^1] == '"')
        {
            argument = argument[1..^1];
        }
        if (argument.IsEmpty)
        {
            return 0;
        }
        long value = 0;
        foreach (var c in argument)
        {
            if (c is < '0' or > '9')
            {
                return 0;
            }
            value = Math.Min(value * 10 + (c - '0'), MaxDelta);
        }
        return (int)value;
    }
}

using Microsoft.Extensions.Primitives;

namespace Gateway.Plugins.Caching;

/// <summary>Entity-tag comparison for <c>If-None-Match</c> (RFC 9110 §8.8.3.2, §13.1.2).</summary>
internal static class EntityTags
{
    /// <summary>Whether any tag of an <c>If-None-Match</c> field, or its <c>*</c>, matches <paramref name="etag"/> by weak comparison.</summary>
    public static bool WeakMatch(StringValues ifNoneMatch, string etag)
    {
        var opaque = Opaque(etag.AsSpan().Trim());
        foreach (var value in ifNoneMatch)
        {
            var rest = (value ?? "").AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var tag = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? [] : rest[(comma + 1)..];
                if (tag is "*" || (!tag.IsEmpty && Opaque(tag).SequenceEqual(opaque)))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static ReadOnlySpan<char> Opaque(ReadOnlySpan<char> tag) => tag.StartsWith("W/") ? tag[2..] : tag;
}

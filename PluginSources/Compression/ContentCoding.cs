using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Compression;

/// <summary>RFC 9110 §12.5.3: which of the offered codings a request's <c>Accept-Encoding</c> takes.</summary>
internal static class ContentCoding
{
    /// <summary>The first of <paramref name="offered"/> the client accepts with a weight above zero; null for none.</summary>
    public static string? Choose(StringValues acceptEncoding, string[] offered)
    {
        if (StringValues.IsNullOrEmpty(acceptEncoding) || !StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var accepted))
        {
            return null;
        }
        foreach (var coding in offered)
        {
            double? weight = null;
            double? anyWeight = null;
            foreach (var item in accepted)
            {
                if (item.Value.Equals(coding, StringComparison.OrdinalIgnoreCase))
                {
                    weight = item.Quality ?? 1;
                }
                else if (item.Value.Equals("*", StringComparison.Ordinal))
                {
                    anyWeight = item.Quality ?? 1;
                }
            }
            // A coding named outright decides for itself; "*" speaks for the codings not named.
            if ((weight ?? anyWeight) > 0)
            {
                return coding;
            }
        }
        return null;
    }
}

namespace Gateway.Plugins.Compression;

/// <summary>Media types as configured: exact (<c>application/json</c>), a type's every subtype (<c>text/*</c>), or a structured-suffix family (<c>application/*+json</c>).</summary>
internal sealed class MediaTypes
{
    private readonly HashSet<string> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _wholeTypes = [];
    private readonly List<(string Type, string Suffix)> _suffixes = [];

    /// <exception cref="PluginConfigurationException">An entry is not a media type or one of the patterns.</exception>
    public static MediaTypes Parse(string[] patterns, string path)
    {
        var types = new MediaTypes();
        for (var i = 0; i < patterns.Length; i++)
        {
            var pattern = patterns[i].Trim();
            var slash = pattern.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == pattern.Length - 1 || pattern.Contains(';', StringComparison.Ordinal) || pattern.Contains(' ', StringComparison.Ordinal))
            {
                throw new PluginConfigurationException($"{path}[{i}]", $"'{patterns[i]}' is not a media type such as application/json or text/*");
            }
            var subtype = pattern[(slash + 1)..];
            if (subtype == "*")
            {
                types._wholeTypes.Add(pattern[..(slash + 1)]);
            }
            else if (subtype.StartsWith("*+", StringComparison.Ordinal))
            {
                types._suffixes.Add((pattern[..(slash + 1)], subtype[1..]));
            }
            else
            {
                types._exact.Add(pattern);
            }
        }
        return types;
    }

    /// <summary>Whether a <c>Content-Type</c> (parameters ignored) is one of these.</summary>
    public bool Contains(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }
        var value = contentType.AsSpan();
        var semicolon = value.IndexOf(';');
        var mediaType = (semicolon < 0 ? value : value[..semicolon]).Trim();
        if (_exact.GetAlternateLookup<ReadOnlySpan<char>>().Contains(mediaType))
        {
            return true;
        }
        foreach (var type in _wholeTypes)
        {
            if (mediaType.StartsWith(type, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        foreach (var (type, suffix) in _suffixes)
        {
            if (mediaType.StartsWith(type, StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}

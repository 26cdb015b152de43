namespace Gateway.Plugins.Caching;

/// <summary>The plugin's <see cref="CachingOptions"/> checked, with their defaults applied and in the units the cache works in.</summary>
internal sealed record CachingSettings(
    TimeSpan LockTimeout,
    long KeepStale,
    long StaleOnError,
    bool StaleOnDisconnect,
    TimeSpan LocalLifetime,
    long LocalMaxBytes,
    string? StatusHeader,
    string? KeyHeader,
    string? TagHeader,
    CacheKeyBuilder Keys,
    StoragePolicy Policy)
{
    private const int DefaultMaxBodyBytes = 1 << 20;

    /// <exception cref="PluginConfigurationException">A value is out of range or a header name is not one.</exception>
    public static CachingSettings From(CachingOptions options)
    {
        var maxBody = Positive(options.MaxBodyBytes, DefaultMaxBodyBytes, "$.maxBodyBytes");
        var maxHeuristic = Positive(options.MaxHeuristicSeconds, 86_400, "$.maxHeuristicSeconds", allowZero: true) * 1000L;
        var fraction = options.HeuristicFraction ?? 0.1;
        if (fraction is < 0 or > 1 || double.IsNaN(fraction))
        {
            throw new PluginConfigurationException("$.heuristicFraction", "must be between 0 and 1");
        }
        var statusHeader = HeaderName(options.StatusHeader ?? "X-Cache", "$.statusHeader");
        var keyHeader = HeaderName(options.KeyHeader ?? "", "$.keyHeader");
        var tagHeader = HeaderName(options.TagHeader ?? "Cache-Tag", "$.tagHeader");
        var targeted = (options.TargetedFields ?? ["CDN-Cache-Control"])
            .Select((name, i) => HeaderName(name, $"$.targetedFields[{i}]") ?? throw new PluginConfigurationException($"$.targetedFields[{i}]", "must not be empty"))
            .ToArray();
        return new CachingSettings(
            TimeSpan.FromMilliseconds(Positive(options.LockTimeoutMs, 5000, "$.lockTimeoutMs")),
            Positive(options.KeepStaleSeconds, 600, "$.keepStaleSeconds", allowZero: true) * 1000L,
            Positive(options.StaleOnErrorSeconds, 0, "$.staleOnErrorSeconds", allowZero: true) * 1000L,
            options.StaleOnDisconnect ?? true,
            TimeSpan.FromSeconds(Positive(options.LocalSeconds, 1, "$.localSeconds", allowZero: true)),
            Positive(options.LocalMaxBytes, 64 << 20, "$.localMaxBytes"),
            statusHeader,
            keyHeader,
            tagHeader,
            CacheKeyBuilder.From(options.Key),
            // The cache's own headers are never stored: they describe one answer, not the response.
            new StoragePolicy(maxBody, options.StoreSetCookie ?? false, fraction, maxHeuristic,
                new[] { statusHeader, keyHeader, tagHeader }.OfType<string>().ToArray(), targeted, options.StripTargetedFields ?? false));
    }

    private static int Positive(int? value, int fallback, string path, bool allowZero = false) => value switch
    {
        null => fallback,
        > 0 => value.Value,
        0 when allowZero => 0,
        _ => throw new PluginConfigurationException(path, allowZero ? "must be zero or more" : "must be more than zero"),
    };

    private static string? HeaderName(string name, string path)
    {
        if (name.Length == 0)
        {
            return null;
        }
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
        {
            throw new PluginConfigurationException(path, $"'{name}' is not a header name");
        }
        return name;
    }
}

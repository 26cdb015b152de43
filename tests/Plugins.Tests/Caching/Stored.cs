using Gateway.Plugins.Caching;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>Stored responses for the cache's rules, in milliseconds like the cache keeps them.</summary>
internal static class Stored
{
    public static StoredResponse Response(
        long lifetime = 60_000, StoredFlags flags = StoredFlags.None, long staleWhileRevalidate = 0, long staleIfError = 0,
        params (string Name, string Value)[] headers) => new()
    {
        Status = 200,
        ResponseTime = 0,
        InitialAge = 0,
        FreshnessLifetime = lifetime,
        StaleWhileRevalidate = staleWhileRevalidate,
        StaleIfError = staleIfError,
        Flags = flags,
        Headers = headers.Select(header => new KeyValuePair<string, string>(header.Name, header.Value)).ToArray(),
        Body = "body"u8.ToArray(),
    };
}

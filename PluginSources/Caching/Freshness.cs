namespace Gateway.Plugins.Caching;

/// <summary>What a stored response may do for a request without the origin (RFC 9111 §4.2, §4.2.4, §5.2.1).</summary>
internal enum Usability
{
    /// <summary>Fresh enough for the request: answer with it.</summary>
    Fresh,

    /// <summary>Stale, but within the request's <c>max-stale</c>: answer with it.</summary>
    Stale,

    /// <summary>Stale within its <c>stale-while-revalidate</c>: answer with it while one request revalidates.</summary>
    StaleWhileRevalidating,

    /// <summary>Ask the origin (with the stored validators when there are any).</summary>
    Revalidate,
}

/// <summary>RFC 9111 §4.2 (freshness) and §4.2.4 (serving stale), against the request's own directives (§5.2.1).</summary>
internal static class Freshness
{
    /// <summary>What <paramref name="stored"/>, <paramref name="age"/> milliseconds old, may do for a request with <paramref name="request"/>'s directives.</summary>
    public static Usability Judge(StoredResponse stored, long age, in CacheControl request)
    {
        if ((stored.Flags & StoredFlags.NoCache) != 0 || request.NoCache)
        {
            return Usability.Revalidate;
        }
        var lifetime = stored.FreshnessLifetime;
        if (request.MaxAge != CacheControl.Absent && age > request.MaxAge * 1000L)
        {
            return Usability.Revalidate;
        }
        if (request.MinFresh != CacheControl.Absent && lifetime - age < request.MinFresh * 1000L)
        {
            return Usability.Revalidate;
        }
        if (age < lifetime)
        {
            return Usability.Fresh;
        }
        var staleness = age - lifetime;
        if ((stored.Flags & StoredFlags.MustRevalidate) != 0)
        {
            return Usability.Revalidate;
        }
        if (request.MaxStale != CacheControl.Absent && staleness <= request.MaxStale * 1000L)
        {
            return Usability.Stale;
        }
        return staleness < stored.StaleWhileRevalidate ? Usability.StaleWhileRevalidating : Usability.Revalidate;
    }

    /// <summary>
    /// Whether <paramref name="stored"/> may answer for an origin that failed: while fresh unless it must always be
    /// revalidated; once stale when the cache is <paramref name="disconnected"/> (no upstream answered), or within
    /// <c>stale-if-error</c> (the response's, the request's) or the operator's <paramref name="staleOnError"/>; never
    /// for <c>must-revalidate</c>, <c>proxy-revalidate</c>, <c>s-maxage</c> or <c>no-cache</c>.
    /// </summary>
    public static bool MayServeOnError(StoredResponse stored, long age, in CacheControl request, long staleOnError, bool disconnected)
    {
        var staleness = age - stored.FreshnessLifetime;
        if (staleness < 0)
        {
            return (stored.Flags & StoredFlags.NoCache) == 0;
        }
        if ((stored.Flags & (StoredFlags.NoCache | StoredFlags.MustRevalidate)) != 0)
        {
            return false;
        }
        if (disconnected)
        {
            return true;
        }
        var allowed = Math.Max(stored.StaleIfError, staleOnError);
        if (request.StaleIfError != CacheControl.Absent)
        {
            allowed = Math.Max(allowed, request.StaleIfError * 1000L);
        }
        return staleness <= allowed;
    }
}

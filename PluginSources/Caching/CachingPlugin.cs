using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Caching;

/// <summary>
/// A shared HTTP cache (RFC 9111) in front of the upstream, stored in the gateway's cache (Redis when configured,
/// in-process otherwise): fresh responses are answered without the upstream, stale ones revalidated with
/// conditional requests, concurrent misses for one key collapsed into one upstream request per node.
/// </summary>
public sealed partial class CachingPlugin : IGatewayPlugin, IResponseCache, IDisposable
{
    private const int DefaultMaxBodyBytes = 1 << 20;

    // The response fields that name URIs an unsafe request changed (RFC 9111 §4.4).
    private static readonly string[] NamedUris = [HeaderNames.Location, HeaderNames.ContentLocation];

    // The fields a 304 carries (RFC 9110 §15.4.5), taken from the stored response.
    private static readonly HashSet<string> NotModifiedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.CacheControl, HeaderNames.ContentLocation, HeaderNames.Date, HeaderNames.ETag, HeaderNames.Expires, HeaderNames.Vary,
    };

    private readonly EntryStore _entries;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CacheKeyBuilder _keys;
    private readonly StoragePolicy _policy;
    private readonly Generations _routes;
    private readonly Generations _tags;
    private readonly Flights _flights = new();
    private readonly TimeSpan _lockTimeout;
    private readonly long _keepStale;
    private readonly long _staleOnError;
    private readonly string? _statusHeader;
    private readonly string? _keyHeader;
    private readonly string? _tagHeader;

    public CachingPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<CachingOptions>();
        var maxBody = Positive(options.MaxBodyBytes, DefaultMaxBodyBytes, "$.maxBodyBytes");
        _lockTimeout = TimeSpan.FromMilliseconds(Positive(options.LockTimeoutMs, 5000, "$.lockTimeoutMs"));
        _keepStale = Positive(options.KeepStaleSeconds, 600, "$.keepStaleSeconds", allowZero: true) * 1000L;
        _staleOnError = Positive(options.StaleOnErrorSeconds, 0, "$.staleOnErrorSeconds", allowZero: true) * 1000L;
        var maxHeuristic = Positive(options.MaxHeuristicSeconds, 86_400, "$.maxHeuristicSeconds", allowZero: true) * 1000L;
        var fraction = options.HeuristicFraction ?? 0.1;
        if (fraction is < 0 or > 1 || double.IsNaN(fraction))
        {
            throw new PluginConfigurationException("$.heuristicFraction", "must be between 0 and 1");
        }
        _statusHeader = HeaderName(options.StatusHeader ?? "X-Cache", "$.statusHeader");
        _keyHeader = HeaderName(options.KeyHeader ?? "", "$.keyHeader");
        _tagHeader = HeaderName(options.TagHeader ?? "Cache-Tag", "$.tagHeader");
        _keys = CacheKeyBuilder.From(options.Key);
        _policy = new StoragePolicy(maxBody, options.StoreSetCookie ?? false, fraction, maxHeuristic,
            new[] { _statusHeader, _keyHeader, _tagHeader }.OfType<string>().ToArray());
        var cache = setup.Services.GetRequiredService<IDistributedCache>();
        _entries = new EntryStore(
            cache,
            TimeSpan.FromSeconds(Positive(options.LocalSeconds, 1, "$.localSeconds", allowZero: true)),
            Positive(options.LocalMaxBytes, 64 << 20, "$.localMaxBytes"));
        _time = setup.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        _logger = setup.Logger;
        _routes = new Generations(cache, _time, "route");
        _tags = new Generations(cache, _time, "tag");
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

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            return InvalidatingAsync(context, next);
        }
        // Ranges pass through: the cache keeps whole representations and does not cut them.
        if (request.Headers.ContainsKey(HeaderNames.Range))
        {
            return BypassingAsync(context, next);
        }
        return CachingAsync(context, next);
    }

    private async ValueTask CachingAsync(PluginContext context, PluginDelegate next)
    {
        var http = context.HttpContext;
        var request = http.Request;
        var directives = RequestDirectives(request.Headers);
        var key = _keys.Build(context);
        var primaryKey = (await _routes.CurrentAsync(context.RouteId).ConfigureAwait(false)).Prefix + key;
        var (stored, rule, storageKey) = await LookupAsync(primaryKey, request).ConfigureAwait(false);
        if (stored is { Tags.Length: > 0 } && !await TagsAreCurrentAsync(stored).ConfigureAwait(false))
        {
            // A tag it carries was purged since it was stored.
            stored = null;
        }

        if (stored is not null)
        {
            var age = stored.AgeAt(Now);
            switch (Usability(stored, age, directives))
            {
                case Use.Fresh:
                    Serve(context, stored, age, "HIT", key);
                    return;
                case Use.Stale:
                    Serve(context, stored, age, "STALE", key);
                    return;
                // Within stale-while-revalidate one request revalidates; the others meanwhile get the stale copy.
                case Use.StaleWhileRevalidating when _flights.UnderWay(storageKey) is not null:
                    Serve(context, stored, age, "STALE", key);
                    return;
            }
        }
        if (directives.OnlyIfCached)
        {
            // RFC 9111 §5.2.1.7: nothing suitable stored and the client forbids going upstream.
            http.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            SetStatus(http.Response, "MISS", key);
            return;
        }

        Flights.Flight? flight = null;
        // A client that asks for an end-to-end reload (no-cache) goes upstream itself; HEAD waits but never leads.
        if (!directives.NoCache)
        {
            Flights.Flight? underWay;
            if (HttpMethods.IsGet(request.Method))
            {
                flight = _flights.TryLead(storageKey, out underWay);
            }
            else
            {
                underWay = _flights.UnderWay(storageKey);
            }
            if (underWay is not null)
            {
                var shared = await underWay.WaitAsync(_lockTimeout, http.RequestAborted).ConfigureAwait(false);
                if (shared is not null && shared.VaryValues == CacheKeyBuilder.VaryValues(request, shared.VaryHeaders)
                    && Usability(shared.Response, shared.Response.AgeAt(Now), directives) == Use.Fresh)
                {
                    Serve(context, shared.Response, shared.Response.AgeAt(Now), "HIT", key);
                    return;
                }
            }
        }
        var handedOver = false;
        try
        {
            handedOver = await FetchAsync(context, next, directives, key, primaryKey, stored, rule, flight).ConfigureAwait(false);
        }
        finally
        {
            if (!handedOver)
            {
                flight?.Land(null);
            }
        }
    }

    /// <summary>Goes upstream, revalidating the stored copy if there is one; returns whether the flight went with the body.</summary>
    private async ValueTask<bool> FetchAsync(
        PluginContext context, PluginDelegate next, CacheControl directives, string key, string primaryKey,
        StoredResponse? stored, VaryRule? rule, Flights.Flight? flight)
    {
        var http = context.HttpContext;
        var request = http.Request;
        var isGet = HttpMethods.IsGet(request.Method);
        // Revalidate a stored copy with its validators, unless the client brought conditions of its own.
        var revalidating = isGet && stored is { HasValidator: true } && !IsConditional(request.Headers);
        if (revalidating)
        {
            AddValidators(request.Headers, stored!);
        }
        var requestTime = Now;
        await next(context).ConfigureAwait(false);
        var responseTime = Now;
        if (revalidating)
        {
            request.Headers.Remove(HeaderNames.IfNoneMatch);
            request.Headers.Remove(HeaderNames.IfModifiedSince);
        }
        var response = http.Response;
        var tags = TakeTags(response);

        if (revalidating && response.StatusCode == StatusCodes.Status304NotModified)
        {
            var headers = _policy.Freshen(stored!.Headers, response.Headers);
            // A cookie the 304 sets is this client's: it reaches this client, and decides storing as it would on a 200.
            var cookies = response.Headers.SetCookie;
            response.Headers.Clear();
            foreach (var (name, value) in headers)
            {
                response.Headers.Append(name, value);
            }
            response.Headers.SetCookie = cookies;
            response.StatusCode = stored.Status;
            var freshened = _policy.Prepare(http, directives, requestTime, responseTime, out var varyHeaders) is { } updated
                ? updated with { Body = stored.Body, Tags = tags.Length > 0 ? await TagAsync(tags).ConfigureAwait(false) : stored.Tags }
                : null;
            response.Headers.Clear();
            Serve(context, freshened ?? stored with { Headers = headers }, 0, "REVALIDATED", key);
            response.Headers.SetCookie = cookies;
            if (freshened is not null)
            {
                var varyValues = CacheKeyBuilder.VaryValues(request, varyHeaders);
                var storing = StoreAsync(primaryKey, rule, varyHeaders, varyValues, freshened);
                flight?.Land(new FlightResult(freshened, varyHeaders, varyValues));
                await storing.ConfigureAwait(false);
            }
            return false;
        }

        // RFC 9111 §4.2.4: a failing upstream may be answered for by a stale copy when stale-if-error (or the operator) allows.
        if (stored is not null && response.StatusCode >= 500 && MayServeOnError(stored, directives))
        {
            response.Headers.Clear();
            Serve(context, stored, stored.AgeAt(Now), "STALE", key);
            return false;
        }
        SetStatus(response, "MISS", key);
        if (!isGet || _policy.Prepare(http, directives, requestTime, responseTime, out var vary) is not { } entry)
        {
            return false;
        }
        if (tags.Length > 0)
        {
            entry = entry with { Tags = await TagAsync(tags).ConfigureAwait(false) };
        }
        // The body is still to come: copy it as it streams to the client, then store it once it has all gone.
        var capture = new CaptureStream(response.Body, _policy.MaxBodyBytes, response.ContentLength);
        response.Body = capture;
        var pending = new PendingStore(this, http, capture, entry, primaryKey, rule, vary, CacheKeyBuilder.VaryValues(request, vary), flight);
        response.OnCompleted(static state => ((PendingStore)state).CompleteAsync(), pending);
        return true;
    }

    private sealed class PendingStore(
        CachingPlugin plugin, HttpContext http, CaptureStream capture, StoredResponse entry, string primaryKey, VaryRule? rule,
        string[] varyHeaders, string varyValues, Flights.Flight? flight)
    {
        public async Task CompleteAsync()
        {
            var body = capture.TakeBody();
            if (body is null || http.RequestAborted.IsCancellationRequested)
            {
                flight?.Land(null);
                return;
            }
            var stored = entry with { Body = body };
            // The write is issued before the flight lands, so a request that found the old copy while the flight was
            // under way finds the new one once it is not (the cache applies one connection's commands in order);
            // the waiters need not wait for the write to be acknowledged.
            var storing = plugin.StoreAsync(primaryKey, rule, varyHeaders, varyValues, stored);
            flight?.Land(new FlightResult(stored, varyHeaders, varyValues));
            await storing.ConfigureAwait(false);
        }
    }

    private async Task StoreAsync(string primaryKey, VaryRule? rule, string[] varyHeaders, string varyValues, StoredResponse stored)
    {
        try
        {
            var now = Now;
            // Kept past its lifetime so it can be revalidated, or served stale where a directive or the config allows.
            var keepFor = Math.Max(0, stored.FreshnessLifetime - stored.InitialAge)
                + Math.Max(Math.Max(stored.StaleWhileRevalidate, stored.StaleIfError), Math.Max(_keepStale, _staleOnError));
            if (keepFor <= 0)
            {
                return;
            }
            var storageKey = primaryKey;
            if (varyHeaders.Length > 0)
            {
                // Variants of one rule share its id; a response that varies on other headers starts a new rule.
                var expiresAt = now + keepFor;
                rule = rule is not null && rule.SameHeaders(varyHeaders)
                    ? rule with { ExpiresAt = Math.Max(rule.ExpiresAt, expiresAt) }
                    : new VaryRule(Guid.NewGuid().ToString("N")[..12], varyHeaders, expiresAt);
                await _entries.SetAsync(primaryKey, rule, Expiry(rule.ExpiresAt - now)).ConfigureAwait(false);
                storageKey = VariantKey(primaryKey, rule, varyValues);
            }
            await _entries.SetAsync(storageKey, stored, Expiry(keepFor)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.StoreFailed(_logger, ex);
        }
    }

    private static TimeSpan Expiry(long milliseconds) => TimeSpan.FromMilliseconds(Math.Max(milliseconds, 1000));

    private static string VariantKey(string primaryKey, VaryRule rule, string varyValues) => primaryKey + "#" + rule.Id + varyValues;

    /// <summary>The stored response for a request, following a <c>Vary</c> rule to the request's variant.</summary>
    private async ValueTask<(StoredResponse? Stored, VaryRule? Rule, string StorageKey)> LookupAsync(string primaryKey, HttpRequest request)
    {
        switch (await _entries.GetAsync(primaryKey).ConfigureAwait(false))
        {
            case StoredResponse stored:
                return (stored, null, primaryKey);
            case VaryRule rule:
                var variantKey = VariantKey(primaryKey, rule, CacheKeyBuilder.VaryValues(request, rule.Headers));
                return (await _entries.GetAsync(variantKey).ConfigureAwait(false) as StoredResponse, rule, variantKey);
            default:
                return (null, null, primaryKey);
        }
    }

    private enum Use
    {
        Fresh,
        Stale,
        StaleWhileRevalidating,
        Revalidate,
    }

    // RFC 9111 §4.2 and §5.2.1: whether a stored response may answer this request without the origin.
    private static Use Usability(StoredResponse stored, long age, in CacheControl request)
    {
        if ((stored.Flags & StoredFlags.NoCache) != 0 || request.NoCache)
        {
            return Use.Revalidate;
        }
        var lifetime = stored.FreshnessLifetime;
        if (request.MaxAge != CacheControl.Absent && age > request.MaxAge * 1000L)
        {
            return Use.Revalidate;
        }
        if (request.MinFresh != CacheControl.Absent && lifetime - age < request.MinFresh * 1000L)
        {
            return Use.Revalidate;
        }
        if (age < lifetime)
        {
            return Use.Fresh;
        }
        var staleness = age - lifetime;
        if ((stored.Flags & StoredFlags.MustRevalidate) != 0)
        {
            return Use.Revalidate;
        }
        if (request.MaxStale != CacheControl.Absent && staleness <= request.MaxStale * 1000L)
        {
            return Use.Stale;
        }
        return staleness < stored.StaleWhileRevalidate ? Use.StaleWhileRevalidating : Use.Revalidate;
    }

    /// <summary>The upstream's tags for the response, taken off it: they are for the cache, not the client.</summary>
    private string[] TakeTags(HttpResponse response)
    {
        if (_tagHeader is null || !response.Headers.TryGetValue(_tagHeader, out var values))
        {
            return [];
        }
        response.Headers.Remove(_tagHeader);
        return values.SelectMany(value => (value ?? "").Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToArray();
    }

    private async Task<KeyValuePair<string, string>[]> TagAsync(string[] tags)
    {
        var stamped = new KeyValuePair<string, string>[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            stamped[i] = new(tags[i], (await _tags.CurrentAsync(tags[i]).ConfigureAwait(false)).Value);
        }
        return stamped;
    }

    private async ValueTask<bool> TagsAreCurrentAsync(StoredResponse stored)
    {
        foreach (var (tag, generation) in stored.Tags)
        {
            if ((await _tags.CurrentAsync(tag).ConfigureAwait(false)).Value != generation)
            {
                return false;
            }
        }
        return true;
    }

    private bool MayServeOnError(StoredResponse stored, in CacheControl request)
    {
        var staleness = stored.AgeAt(Now) - stored.FreshnessLifetime;
        if (staleness < 0)
        {
            return (stored.Flags & StoredFlags.NoCache) == 0;
        }
        if ((stored.Flags & (StoredFlags.NoCache | StoredFlags.MustRevalidate)) != 0)
        {
            return false;
        }
        var allowed = Math.Max(stored.StaleIfError, _staleOnError);
        if (request.StaleIfError != CacheControl.Absent)
        {
            allowed = Math.Max(allowed, request.StaleIfError * 1000L);
        }
        return staleness <= allowed;
    }

    /// <summary>Answers from a stored response: a 304 when the client's conditions match it, the response otherwise.</summary>
    private void Serve(PluginContext context, StoredResponse stored, long age, string status, string key)
    {
        var http = context.HttpContext;
        var response = http.Response;
        var notModified = stored.Status == StatusCodes.Status200OK && ClientHasIt(http.Request.Headers, stored);
        response.StatusCode = notModified ? StatusCodes.Status304NotModified : stored.Status;
        var headers = response.Headers;
        foreach (var (name, value) in stored.Headers)
        {
            if (!notModified || NotModifiedHeaders.Contains(name))
            {
                headers.Append(name, value);
            }
        }
        headers.Age = (age / 1000).ToString(CultureInfo.InvariantCulture);
        SetStatus(response, status, key);
        if (!notModified)
        {
            // Set here rather than by the runner: on a revalidation the forwarder may send the headers before it.
            response.ContentLength = stored.Body.Length;
            context.DeferResponseBody(stored.Body);
        }
    }

    private void SetStatus(HttpResponse response, string status, string? key)
    {
        if (_statusHeader is not null)
        {
            response.Headers[_statusHeader] = status;
        }
        if (_keyHeader is not null && key is not null)
        {
            response.Headers[_keyHeader] = key;
        }
    }

    // RFC 9110 §13.2.2: If-None-Match decides when present; otherwise If-Modified-Since against Last-Modified (or Date).
    private static bool ClientHasIt(IHeaderDictionary request, StoredResponse stored)
    {
        var ifNoneMatch = request.IfNoneMatch;
        if (!StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            return stored.Header(HeaderNames.ETag) is { } etag && EntityTags.WeakMatch(ifNoneMatch, etag);
        }
        if (StoragePolicy.ParseDate(request.IfModifiedSince) is { } since)
        {
            var modified = StoragePolicy.ParseDate(stored.Header(HeaderNames.LastModified)) ?? StoragePolicy.ParseDate(stored.Header(HeaderNames.Date));
            return modified is { } at && at <= since;
        }
        return false;
    }

    private static bool IsConditional(IHeaderDictionary request) =>
        request.ContainsKey(HeaderNames.IfNoneMatch) || request.ContainsKey(HeaderNames.IfModifiedSince)
        || request.ContainsKey(HeaderNames.IfMatch) || request.ContainsKey(HeaderNames.IfUnmodifiedSince) || request.ContainsKey(HeaderNames.IfRange);

    private static void AddValidators(IHeaderDictionary request, StoredResponse stored)
    {
        if (stored.Header(HeaderNames.ETag) is { } etag)
        {
            request.IfNoneMatch = etag;
        }
        if (stored.Header(HeaderNames.LastModified) is { } lastModified)
        {
            request.IfModifiedSince = lastModified;
        }
    }

    private static CacheControl RequestDirectives(IHeaderDictionary headers)
    {
        var cacheControl = headers.CacheControl;
        if (StringValues.IsNullOrEmpty(cacheControl))
        {
            // RFC 9111 §5.4: Pragma: no-cache counts only when Cache-Control is absent.
            var pragma = headers.Pragma;
            return !StringValues.IsNullOrEmpty(pragma) && pragma.ToString().Contains("no-cache", StringComparison.OrdinalIgnoreCase)
                ? CacheControl.None with { NoCache = true }
                : CacheControl.None;
        }
        return CacheControl.Parse(cacheControl);
    }

    private async ValueTask BypassingAsync(PluginContext context, PluginDelegate next)
    {
        await next(context).ConfigureAwait(false);
        SetStatus(context.HttpContext.Response, "BYPASS", _keyHeader is null ? null : _keys.Build(context));
    }

    /// <summary>
    /// RFC 9111 §4.4: a successful unsafe request (POST, PUT, DELETE…) invalidates what is stored for its URI.
    /// </summary>
    private async ValueTask InvalidatingAsync(PluginContext context, PluginDelegate next)
    {
        await next(context).ConfigureAwait(false);
        var response = context.HttpContext.Response;
        var key = _keys.Build(context);
        if (response.StatusCode is >= 200 and < 400 && !IsSafe(context.HttpContext.Request.Method))
        {
            var prefix = (await _routes.CurrentAsync(context.RouteId).ConfigureAwait(false)).Prefix;
            await _entries.RemoveAsync(prefix + key).ConfigureAwait(false);
            // The URIs the response names as changed or created, when they are on this host.
            foreach (var named in NamedUris)
            {
                if (SameHostUri(context.HttpContext.Request, response.Headers[named]) is { } uri)
                {
                    await _entries.RemoveAsync(prefix + _keys.Build(context, uri)).ConfigureAwait(false);
                }
            }
        }
        SetStatus(response, "BYPASS", key);
    }

    private static Uri? SameHostUri(HttpRequest request, StringValues value)
    {
        if (value.Count != 1 || !Uri.TryCreate(new Uri($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}"), value.ToString(), out var uri))
        {
            return null;
        }
        return string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase) ? uri : null;
    }

    private static bool IsSafe(string method) => HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    public ValueTask PurgeRouteAsync(string routeId, CancellationToken cancellationToken) =>
        new(_routes.PurgeAsync(routeId, cancellationToken));

    public ValueTask PurgeTagAsync(string tag, CancellationToken cancellationToken) => new(_tags.PurgeAsync(tag, cancellationToken));

    public async ValueTask PurgeKeyAsync(string routeId, string key, CancellationToken cancellationToken) =>
        await _entries.RemoveAsync((await _routes.CurrentAsync(routeId).ConfigureAwait(false)).Prefix + key, cancellationToken).ConfigureAwait(false);

    public void Dispose() => _entries.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Storing a response failed; it is served but not cached.")]
        public static partial void StoreFailed(ILogger logger, Exception exception);
    }
}

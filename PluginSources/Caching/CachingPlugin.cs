using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Caching;

/// <summary>
/// A shared HTTP cache (RFC 9111) in front of the upstream, stored in the gateway's cache (Redis when configured,
/// in-process otherwise): fresh responses are answered without the upstream, stale ones revalidated with
/// conditional requests, concurrent misses for one key collapsed into one upstream request per node.
/// </summary>
/// <remarks>
/// This file is the request's way through the cache; each rule lives in a room of its own: <see cref="Freshness"/>,
/// <see cref="ConditionalRequests"/>, <see cref="StoragePolicy"/> (what may be stored, for how long), <see cref="ResponseStore"/>
/// (keys and variants), <see cref="PendingStore"/>, <see cref="Invalidation"/>, <see cref="TagStamps"/> and <see cref="Flights"/>.
/// </remarks>
[NonBlocking]
public sealed class CachingPlugin : IGatewayPlugin, IResponseCache, IReportsCounters, IDisposable
{
    private readonly EntryStore _entries;
    private readonly ResponseStore _store;
    private readonly TimeProvider _time;
    private readonly CacheKeyBuilder _keys;
    private readonly StoragePolicy _policy;
    private readonly Generations _routes;
    private readonly TagStamps _tags;
    private readonly Invalidation _invalidation;
    private readonly CacheResponder _responder;
    private readonly Flights _flights = new();
    private readonly CacheOutcomes _outcomes = new();
    private readonly TimeSpan _lockTimeout;
    private readonly long _staleOnError;
    private readonly bool _staleOnDisconnect;

    public CachingPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var settings = CachingSettings.From(setup.GetConfig<CachingOptions>());
        _time = setup.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        _lockTimeout = settings.LockTimeout;
        _staleOnError = settings.StaleOnError;
        _staleOnDisconnect = settings.StaleOnDisconnect;
        _keys = settings.Keys;
        _policy = settings.Policy;
        _responder = new CacheResponder(settings.StatusHeader, settings.KeyHeader);
        var cache = setup.Services.GetRequiredService<IDistributedCache>();
        _entries = new EntryStore(cache, settings.LocalLifetime, settings.LocalMaxBytes);
        _store = new ResponseStore(_entries, _time, settings.KeepStale, settings.StaleOnError, setup.Logger);
        _routes = new Generations(cache, _time, "route");
        _tags = new TagStamps(new Generations(cache, _time, "tag"), settings.TagHeader);
        _invalidation = new Invalidation(_store, _routes, _keys);
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Requests by what the cache did for them: <c>hit</c>, <c>miss</c>, <c>stale</c>, <c>revalidated</c>, <c>bypass</c>.</summary>
    public IReadOnlyDictionary<string, long> Counters => _outcomes.Counters;

    public ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        var handling = HandleAsync(context, next);
        if (handling.IsCompletedSuccessfully)
        {
            handling.GetAwaiter().GetResult();
            _outcomes.Count(context);
            return default;
        }
        return CountAfterAsync(handling, context);
    }

    private async ValueTask CountAfterAsync(ValueTask handling, PluginContext context)
    {
        await handling.ConfigureAwait(false);
        _outcomes.Count(context);
    }

    private ValueTask HandleAsync(PluginContext context, PluginDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            return InvalidatingAsync(context, next);
        }
        // A range of a GET is cut from a fresh stored 200; otherwise ranges pass through, and a 206 is never stored.
        if (request.Headers.ContainsKey(HeaderNames.Range))
        {
            return HttpMethods.IsGet(request.Method) ? RangeAsync(context, next) : BypassingAsync(context, next);
        }
        return CachingAsync(context, next);
    }

    private async ValueTask CachingAsync(PluginContext context, PluginDelegate next)
    {
        var http = context.HttpContext;
        var request = http.Request;
        var directives = CacheControl.OfRequest(request.Headers);
        var key = _keys.Build(context);
        var primaryKey = (await _routes.CurrentAsync(context.RouteId).ConfigureAwait(false)).Prefix + key;
        var (stored, rule, storageKey) = await _store.LookupAsync(primaryKey, request).ConfigureAwait(false);
        if (stored is { Tags.Length: > 0 } && !await _tags.AreCurrentAsync(stored).ConfigureAwait(false))
        {
            // A tag it carries was purged since it was stored.
            stored = null;
        }

        var staleWhileRevalidating = false;
        if (stored is not null)
        {
            var age = stored.AgeAt(Now);
            switch (Freshness.Judge(stored, age, directives))
            {
                case Usability.Fresh:
                    _responder.Serve(context, stored, age, "HIT", key);
                    return;
                case Usability.Stale:
                    _responder.Serve(context, stored, age, "STALE", key);
                    return;
                // Within stale-while-revalidate one revalidation runs in the background; meanwhile every request gets the stale copy.
                case Usability.StaleWhileRevalidating when _flights.UnderWay(storageKey) is not null:
                    _responder.Serve(context, stored, age, "STALE", key);
                    return;
                case Usability.StaleWhileRevalidating:
                    staleWhileRevalidating = true;
                    break;
            }
        }
        if (directives.OnlyIfCached)
        {
            // RFC 9111 §5.2.1.7: nothing suitable stored and the client forbids going upstream.
            http.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            _responder.SetStatus(context, "MISS", key);
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
                if (staleWhileRevalidating && flight is not null && StartRevalidation(context, next, directives, key, primaryKey, stored!, rule, flight))
                {
                    _responder.Serve(context, stored!, stored!.AgeAt(Now), "STALE", key);
                    return;
                }
            }
            else
            {
                underWay = _flights.UnderWay(storageKey);
            }
            if (underWay is not null)
            {
                var shared = await underWay.WaitAsync(_lockTimeout, _time, http.RequestAborted).ConfigureAwait(false);
                if (shared is not null && shared.VaryValues == CacheKeyBuilder.VaryValues(request, shared.VaryHeaders)
                    && Freshness.Judge(shared.Response, shared.Response.AgeAt(Now), directives) == Usability.Fresh)
                {
                    _responder.Serve(context, shared.Response, shared.Response.AgeAt(Now), "HIT", key);
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

    /// <summary>
    /// Revalidates <paramref name="stored"/> with a detached copy of the request (RFC 5861 §3), so this request need not
    /// wait for the upstream; false when the gateway would not start one, and this request must revalidate itself.
    /// </summary>
    private bool StartRevalidation(
        PluginContext context, PluginDelegate next, CacheControl directives, string key, string primaryKey, StoredResponse stored,
        VaryRule? rule, Flights.Flight flight) =>
        context.TryStartDetachedRequest(async copy =>
        {
            var handedOver = false;
            try
            {
                handedOver = await FetchAsync(copy, next, directives, key, primaryKey, stored, rule, flight).ConfigureAwait(false);
            }
            finally
            {
                if (!handedOver)
                {
                    flight.Land(null);
                }
            }
        });

    /// <summary>Goes upstream, revalidating the stored copy if there is one; returns whether the flight went with the body.</summary>
    private async ValueTask<bool> FetchAsync(
        PluginContext context, PluginDelegate next, CacheControl directives, string key, string primaryKey,
        StoredResponse? stored, VaryRule? rule, Flights.Flight? flight)
    {
        var http = context.HttpContext;
        var request = http.Request;
        var isGet = HttpMethods.IsGet(request.Method);
        // Revalidate a stored copy with its validators, unless the client brought conditions of its own.
        var revalidating = isGet && stored is { HasValidator: true } && !ConditionalRequests.IsConditional(request.Headers);
        if (revalidating)
        {
            ConditionalRequests.AddValidators(request.Headers, stored!);
        }
        var requestTime = Now;
        await next(context).ConfigureAwait(false);
        var responseTime = Now;
        if (revalidating)
        {
            ConditionalRequests.RemoveValidators(request.Headers);
        }
        var response = http.Response;
        var tags = _tags.Take(response);

        if (revalidating && response.StatusCode == StatusCodes.Status304NotModified)
        {
            await FreshenAsync(context, directives, key, primaryKey, stored!, rule, flight, tags, requestTime, responseTime).ConfigureAwait(false);
            return false;
        }

        // RFC 9111 §4.2.4: a failing upstream may be answered for by a stale copy when stale-if-error (or the operator)
        // allows, and an unreachable one (the cache is disconnected) unless a directive forbids serving it stale.
        if (stored is not null && response.StatusCode >= 500
            && Freshness.MayServeOnError(stored, stored.AgeAt(Now), directives, _staleOnError, disconnected: _staleOnDisconnect && context.UpstreamFailed))
        {
            response.Headers.Clear();
            _responder.Serve(context, stored, stored.AgeAt(Now), "STALE", key);
            return false;
        }
        _responder.SetStatus(context, "MISS", key);
        string[] vary = [];
        var entry = isGet ? _policy.Prepare(http, directives, requestTime, responseTime, out vary) : null;
        _policy.StripTargetedFields(response.Headers);
        if (entry is null)
        {
            return false;
        }
        if (tags.Length > 0)
        {
            entry = entry with { Tags = await _tags.StampAsync(tags).ConfigureAwait(false) };
        }
        // The body is still to come: copy it as it streams to the client, then store it once it has all gone.
        var capture = new CaptureStream(response.Body, _policy.MaxBodyBytes, response.ContentLength);
        response.Body = capture;
        var pending = new PendingStore(_store, http, capture, entry, primaryKey, rule, vary, CacheKeyBuilder.VaryValues(request, vary), flight);
        response.OnCompleted(static state => ((PendingStore)state).CompleteAsync(), pending);
        return true;
    }

    /// <summary>
    /// RFC 9111 §4.3.4: the origin's 304 confirmed the stored copy; its fields update the stored ones, the client gets
    /// the stored response (or its own 304), and the freshened copy is stored again.
    /// </summary>
    private async Task FreshenAsync(
        PluginContext context, CacheControl directives, string key, string primaryKey, StoredResponse stored, VaryRule? rule,
        Flights.Flight? flight, string[] tags, long requestTime, long responseTime)
    {
        var http = context.HttpContext;
        var response = http.Response;
        var headers = _policy.Freshen(stored.Headers, response.Headers);
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
            ? updated with { Body = stored.Body, Tags = tags.Length > 0 ? await _tags.StampAsync(tags).ConfigureAwait(false) : stored.Tags }
            : null;
        response.Headers.Clear();
        _responder.Serve(context, freshened ?? stored with { Headers = headers }, 0, "REVALIDATED", key);
        response.Headers.SetCookie = cookies;
        if (freshened is not null)
        {
            var varyValues = CacheKeyBuilder.VaryValues(http.Request, varyHeaders);
            var storing = _store.StoreAsync(primaryKey, rule, varyHeaders, varyValues, freshened);
            flight?.Land(new FlightResult(freshened, varyHeaders, varyValues));
            await storing.ConfigureAwait(false);
        }
    }

    private async ValueTask RangeAsync(PluginContext context, PluginDelegate next)
    {
        var request = context.HttpContext.Request;
        var directives = CacheControl.OfRequest(request.Headers);
        var key = _keys.Build(context);
        var primaryKey = (await _routes.CurrentAsync(context.RouteId).ConfigureAwait(false)).Prefix + key;
        var (stored, _, _) = await _store.LookupAsync(primaryKey, request).ConfigureAwait(false);
        if (stored is not null && (stored.Tags.Length == 0 || await _tags.AreCurrentAsync(stored).ConfigureAwait(false))
            && Freshness.Judge(stored, stored.AgeAt(Now), directives) == Usability.Fresh)
        {
            var answer = RangeRequests.Evaluate(request.Headers, stored, out var offset, out var count);
            // A client that has the representation gets its 304 rather than a range of it (RFC 9110 §13.2.2).
            if (answer == RangeRequests.Answer.Whole || ConditionalRequests.ClientHasIt(request.Headers, stored))
            {
                _responder.Serve(context, stored, stored.AgeAt(Now), "HIT", key);
            }
            else
            {
                _responder.ServeRange(context, stored, stored.AgeAt(Now), key, answer, offset, count);
            }
            return;
        }
        await BypassingAsync(context, next).ConfigureAwait(false);
    }

    private async ValueTask BypassingAsync(PluginContext context, PluginDelegate next)
    {
        await next(context).ConfigureAwait(false);
        _policy.StripTargetedFields(context.HttpContext.Response.Headers);
        _responder.SetStatus(context, "BYPASS", _responder.ShowsKey ? _keys.Build(context) : null);
    }

    private async ValueTask InvalidatingAsync(PluginContext context, PluginDelegate next)
    {
        await next(context).ConfigureAwait(false);
        var key = await _invalidation.InvalidateAsync(context).ConfigureAwait(false);
        _policy.StripTargetedFields(context.HttpContext.Response.Headers);
        _responder.SetStatus(context, "BYPASS", key);
    }

    public ValueTask PurgeRouteAsync(string routeId, CancellationToken cancellationToken) =>
        new(_routes.PurgeAsync(routeId, cancellationToken));

    public ValueTask PurgeTagAsync(string tag, CancellationToken cancellationToken) => new(_tags.PurgeAsync(tag, cancellationToken));

    public async ValueTask PurgeKeyAsync(string routeId, string key, CancellationToken cancellationToken) =>
        await _store.RemoveAsync((await _routes.CurrentAsync(routeId).ConfigureAwait(false)).Prefix + key, cancellationToken).ConfigureAwait(false);

    public void Dispose() => _entries.Dispose();
}

using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Plugins.Auth;

/// <summary>
/// Signing keys from a JWKS URL: fetched at load, refetched in the background when stale, and at once (at most every
/// 30 s) when a token names a key it does not know, as an issuer's key rotation requires. A request waits for a fetch
/// at most the configured bound; a failed fetch keeps the last good keys.
/// </summary>
internal sealed partial class JwksKeySource : IDisposable
{
    private static readonly TimeSpan MinimumRefetchInterval = TimeSpan.FromSeconds(30);
    private readonly Uri _url;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeSpan _wait;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private IReadOnlyList<SecurityKey> _keys = [];
    private long _fetchedAt;
    private long _attemptedAt;
    private long _unknownKeyRefetchAt;
    private Task? _fetching;

    public JwksKeySource(Uri url, TimeSpan refreshInterval, TimeSpan wait, ILogger logger, TimeProvider time)
    {
        _time = time;
        _url = url;
        _refreshInterval = refreshInterval;
        _wait = wait;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public IReadOnlyList<SecurityKey> Keys => Volatile.Read(ref _keys);

    /// <summary>Fetches now and waits up to the bound; a failure is logged, not thrown.</summary>
    public Task LoadAsync() => WaitBoundedAsync(StartFetch());

    /// <summary>Starts a background refetch if the keys are older than the refresh interval.</summary>
    public void RefreshIfStale()
    {
        if (Since(Interlocked.Read(ref _fetchedAt)) > _refreshInterval
            && Since(Interlocked.Read(ref _attemptedAt)) > MinimumRefetchInterval)
        {
            StartFetch();
        }
    }

    /// <summary>A token named an unknown key: refetch (rate-limited) and wait up to the bound.</summary>
    /// <returns>True when the keys changed.</returns>
    public async Task<bool> RefetchForUnknownKeyAsync()
    {
        // Tokens naming unknown keys are cheap to make; they may cause one fetch per interval, no more.
        var last = Interlocked.Read(ref _unknownKeyRefetchAt);
        if (Since(last) < MinimumRefetchInterval
            || Interlocked.CompareExchange(ref _unknownKeyRefetchAt, _time.GetTimestamp(), last) != last)
        {
            return false;
        }
        var before = Keys;
        await WaitBoundedAsync(StartFetch()).ConfigureAwait(false);
        return !ReferenceEquals(before, Keys);
    }

    private async Task WaitBoundedAsync(Task fetch)
    {
        try
        {
            await fetch.WaitAsync(_wait, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The fetch goes on in the background; this request decides with the keys it has.
        }
    }

    private Task StartFetch()
    {
        lock (_gate)
        {
            if (_fetching is { IsCompleted: false } running)
            {
                return running;
            }
            Interlocked.Exchange(ref _attemptedAt, _time.GetTimestamp());
            return _fetching = FetchAsync();
        }
    }

    private async Task FetchAsync()
    {
        try
        {
            var json = await _http.GetStringAsync(_url).ConfigureAwait(false);
            var keys = new JsonWebKeySet(json).GetSigningKeys();
            Volatile.Write(ref _keys, keys.ToArray());
            Interlocked.Exchange(ref _fetchedAt, _time.GetTimestamp());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ArgumentException or System.Text.Json.JsonException)
        {
            Log.FetchFailed(_logger, _url, Keys.Count, ex);
        }
    }

    // Zero means never: long ago enough for any interval.
    private TimeSpan Since(long timestamp) => timestamp == 0 ? TimeSpan.MaxValue : _time.GetElapsedTime(timestamp);

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Fetching the JWKS from {Url} failed; the last good keys ({Count}) stay in use.")]
        public static partial void FetchFailed(ILogger logger, Uri url, int count, Exception exception);
    }
}

using System.Globalization;
using System.Threading.RateLimiting;

namespace Gateway.Plugins.RateLimit;

/// <summary>
/// One configured limit, counted in this node's memory: a token bucket or a sliding window per key
/// (<c>System.Threading.RateLimiting</c>); a key's limiter is dropped once it has been idle and full again.
/// </summary>
internal sealed class Limit : IDisposable
{
    // Sliding windows move in this many steps per window: a request counts against the window for at most 1/10 longer than its length.
    private const int WindowSegments = 10;

    private readonly PartitionedRateLimiter<object> _limiter;
    private readonly LimitKey _key;
    private readonly bool _refillsSteadily;

    private Limit(LimitKey key, string name, int quota, TimeSpan window, bool refillsSteadily, PartitionedRateLimiter<object> limiter, TimeSpan period, int rate)
    {
        _key = key;
        _refillsSteadily = refillsSteadily;
        Period = period;
        Rate = rate;
        _limiter = limiter;
        Quota = quota;
        Window = window;
        Policy = $"\"{name}\";q={quota};w={WholeSeconds(window)}";
        Name = name;
    }

    public string Name { get; }

    /// <summary>How many requests the limit lets through at once.</summary>
    public int Quota { get; }

    /// <summary>How long a spent quota takes to come back whole.</summary>
    public TimeSpan Window { get; }

    /// <summary>Whether it is a token bucket (refilling steadily) rather than a sliding window.</summary>
    public bool IsBucket => _refillsSteadily;

    /// <summary>A bucket's <c>per</c>, or a window's length.</summary>
    public TimeSpan Period { get; }

    /// <summary>A bucket's tokens per <see cref="Period"/>; 0 for a window.</summary>
    public int Rate { get; }

    /// <summary>What the limit counts by, as configured.</summary>
    public string KeyText => _key.Text;

    /// <summary>This limit's item of <c>RateLimit-Policy</c> (draft-ietf-httpapi-ratelimit-headers).</summary>
    public string Policy { get; }

    /// <exception cref="PluginConfigurationException">The algorithm is missing, doubled or out of range.</exception>
    public static Limit Create(LimitOptions options, int index, string path)
    {
        var key = LimitKey.Parse(options.Key, path + ".key");
        var name = options.Name ?? index.ToString(CultureInfo.InvariantCulture);
        if (name.Length == 0 || name.Any(c => c is '"' or '\\' || char.IsControl(c) || c > '~'))
        {
            throw new PluginConfigurationException(path + ".name", "must be printable ASCII without quotes or backslashes");
        }
        switch (options)
        {
            case { TokenBucket: { } bucket, Window: null }:
            {
                var burst = bucket.Burst ?? bucket.Rate;
                Positive(bucket.Rate, path + ".tokenBucket.rate");
                Positive(burst, path + ".tokenBucket.burst");
                PositivePeriod(bucket.Per, path + ".tokenBucket.per");
                // The limiter adds tokens in proportion to the time passed (fractions included), so the bucket refills
                // smoothly, not in a lump each period.
                var limiterOptions = new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = bucket.Rate,
                    ReplenishmentPeriod = bucket.Per,
                    QueueLimit = 0,
                    AutoReplenishment = false,
                };
                return new Limit(key, name, burst, bucket.Per * burst / bucket.Rate, refillsSteadily: true,
                    Partitioned(_ => new TokenBucketRateLimiter(limiterOptions)), bucket.Per, bucket.Rate);
            }
            case { Window: { } window, TokenBucket: null }:
            {
                Positive(window.Limit, path + ".window.limit");
                PositivePeriod(window.Per, path + ".window.per");
                var limiterOptions = new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = window.Limit,
                    Window = window.Per,
                    SegmentsPerWindow = WindowSegments,
                    QueueLimit = 0,
                    AutoReplenishment = false,
                };
                return new Limit(key, name, window.Limit, window.Per, refillsSteadily: false,
                    Partitioned(_ => new SlidingWindowRateLimiter(limiterOptions)), window.Per, 0);
            }
            case { Window: not null, TokenBucket: not null }:
                throw new PluginConfigurationException(path, "give one of tokenBucket and window, not both");
            default:
                throw new PluginConfigurationException(path, "give tokenBucket { rate, per, burst } or window { limit, per }");
        }
    }

    // One limiter per key, made by a factory created once: RateLimitPartition's typed helpers allocate a closure per
    // call. The partitioned limiter's own timer replenishes them (none has a timer of its own) and drops idle ones.
    private static PartitionedRateLimiter<object> Partitioned(Func<object, RateLimiter> factory) =>
        PartitionedRateLimiter.Create<object, object>(key => RateLimitPartition.Get(key, factory));

    /// <summary>The request's key for this limit; null when the request lacks a part of it and the limit does not count it.</summary>
    public object? KeyOf(PluginContext context) => _key.Of(context);

    /// <summary>Takes one permit for <paramref name="key"/>.</summary>
    /// <returns>Whether there was one; when not, how long until there may be.</returns>
    public bool TryAcquire(object key, out TimeSpan retryAfter)
    {
        using var lease = _limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            retryAfter = default;
            return true;
        }
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
        return false;
    }

    /// <summary>How many permits <paramref name="key"/> has left.</summary>
    public long Remaining(object key) => _limiter.GetStatistics(key)?.CurrentAvailablePermits ?? Quota;

    /// <summary>
    /// How long until a quota with <paramref name="remaining"/> left is whole again if nothing more is taken: exact for a
    /// bucket, which refills steadily; for a window, whose requests roll off a window after each came, at most a window.
    /// </summary>
    public TimeSpan UntilWhole(long remaining) => remaining >= Quota ? TimeSpan.Zero
        : _refillsSteadily ? Window * ((double)(Quota - remaining) / Quota) : Window;

    public static long WholeSeconds(TimeSpan span) => (long)Math.Ceiling(span.TotalSeconds);

    public void Dispose() => _limiter.Dispose();

    private static void Positive(int value, string path)
    {
        if (value <= 0)
        {
            throw new PluginConfigurationException(path, "must be more than zero");
        }
    }

    private static void PositivePeriod(TimeSpan value, string path)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new PluginConfigurationException(path, "must be a period more than zero, such as 00:00:01 or 1.00:00:00");
        }
    }
}

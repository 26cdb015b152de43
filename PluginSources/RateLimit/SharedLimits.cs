using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Plugins.RateLimit;

/// <summary>
/// The limits counted in the gateway's Redis, shared by every node: one script decides a request against all its
/// limits at once (one round trip), on Redis's clock, so nodes whose clocks differ still count alike. The algorithms
/// are those of the local store: a bucket refilling in proportion to the time passed, a window sliding in tenths.
/// </summary>
internal sealed class SharedLimits(ISharedScripts scripts, Limit[] limits)
{
    // ARGV: per applying limit, its kind (0 bucket, 1 window), quota, period in ms and rate. Returns
    // { 1, -1, 0, remaining... } when every limit admits, or { 0, index of the one that refused, retry after ms }.
    // A limit that refuses stops the rest, as in the local store: those before it have taken their permit.
    private const string Script = """
        local now = redis.call('TIME')
        now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        local result = { 1, -1, 0 }
        for i = 1, #KEYS do
          local base = (i - 1) * 4
          local quota = tonumber(ARGV[base + 2])
          local period = tonumber(ARGV[base + 3])
          local remaining
          if ARGV[base + 1] == '0' then
            local rate = tonumber(ARGV[base + 4])
            local state = redis.call('HMGET', KEYS[i], 't', 'ts')
            local tokens = tonumber(state[1]) or quota
            local stamp = tonumber(state[2]) or now
            if now > stamp then tokens = math.min(quota, tokens + (now - stamp) * rate / period) end
            if tokens < 1 then
              return { 0, i - 1, math.ceil((1 - tokens) * period / rate) }
            end
            tokens = tokens - 1
            redis.call('HSET', KEYS[i], 't', tostring(tokens), 'ts', now)
            redis.call('PEXPIRE', KEYS[i], math.ceil(quota * period / rate) + 1000)
            remaining = math.floor(tokens)
          else
            local segment = math.max(1, math.floor(period / 10))
            local current = math.floor(now / segment)
            local counts = redis.call('HGETALL', KEYS[i])
            local used = 0
            local oldest = current
            for j = 1, #counts, 2 do
              local at = tonumber(counts[j])
              if at <= current - 10 then
                redis.call('HDEL', KEYS[i], counts[j])
              else
                used = used + tonumber(counts[j + 1])
                if at < oldest then oldest = at end
              end
            end
            if used >= quota then
              return { 0, i - 1, (oldest + 10) * segment - now }
            end
            redis.call('HINCRBY', KEYS[i], current, 1)
            redis.call('PEXPIRE', KEYS[i], period + segment)
            remaining = quota - used - 1
          end
          result[#result + 1] = remaining
        end
        return result
        """;

    // Each limit's keys start with a digest of its definition: entries with the same limit count together, and a
    // changed limit starts afresh instead of reading state another algorithm wrote.
    private readonly string[] _prefixes = limits.Select(Prefix).ToArray();

    /// <summary>What Redis decided; <paramref name="remaining"/> per limit, -1 where the limit does not apply.</summary>
    public async ValueTask<(int Refused, TimeSpan RetryAfter)> DecideAsync(PluginContext context, long[] remaining)
    {
        var keys = new List<string>(limits.Length);
        var arguments = new List<long>(limits.Length * 4);
        var applying = new List<int>(limits.Length);
        for (var i = 0; i < limits.Length; i++)
        {
            remaining[i] = -1;
            if (limits[i].KeyOf(context) is not { } key)
            {
                continue;
            }
            var limit = limits[i];
            applying.Add(i);
            keys.Add(_prefixes[i] + (key as string ?? key.ToString()));
            arguments.AddRange([limit.IsBucket ? 0 : 1, limit.Quota, (long)limit.Period.TotalMilliseconds, limit.Rate]);
        }
        if (keys.Count == 0)
        {
            return (-1, default);
        }
        var result = await scripts.EvaluateAsync(Script, [.. keys], [.. arguments]).ConfigureAwait(false);
        if (result[0] == 0)
        {
            return (applying[(int)result[1]], TimeSpan.FromMilliseconds(Math.Max(0, result[2])));
        }
        for (var i = 0; i < applying.Count; i++)
        {
            remaining[applying[i]] = result[3 + i];
        }
        return (-1, default);
    }

    private static string Prefix(Limit limit)
    {
        var definition = string.Create(CultureInfo.InvariantCulture, $"{limit.KeyText}|{limit.IsBucket}|{limit.Quota}|{limit.Period.Ticks}|{limit.Rate}");
        return "gateway:ratelimit:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(definition)).AsSpan(0, 8)) + ":";
    }
}

using System.Buffers.Binary;
using System.Text;

namespace Gateway.Plugins.Caching;

/// <summary>
/// A response as the cache keeps it: status, end-to-end headers, body, and the freshness figures of RFC 9111 §4.2
/// computed once when it was stored, so a hit reads numbers instead of parsing headers again.
/// </summary>
internal sealed record StoredResponse
{
    private const byte FormatVersion = 3;
    private const byte ResponseKind = 1;

    public required int Status { get; init; }

    /// <summary>When the response (or its last successful revalidation) arrived, in Unix milliseconds.</summary>
    public required long ResponseTime { get; init; }

    /// <summary>The corrected initial age (RFC 9111 §4.2.3), in milliseconds.</summary>
    public required long InitialAge { get; init; }

    /// <summary>The freshness lifetime (RFC 9111 §4.2.1), in milliseconds.</summary>
    public required long FreshnessLifetime { get; init; }

    /// <summary>How long past its lifetime the response may be served while one request revalidates it, in milliseconds.</summary>
    public required long StaleWhileRevalidate { get; init; }

    /// <summary>How long past its lifetime the response may be served when the upstream fails, in milliseconds.</summary>
    public required long StaleIfError { get; init; }

    public required StoredFlags Flags { get; init; }

    /// <summary>End-to-end headers in arrival order; a name repeats for each field line.</summary>
    public required KeyValuePair<string, string>[] Headers { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The tags the upstream gave it, each with the tag's generation when it was stored.</summary>
    public KeyValuePair<string, string>[] Tags { get; init; } = [];

    /// <summary>The current age (RFC 9111 §4.2.3) at <paramref name="now"/>, in milliseconds.</summary>
    public long AgeAt(long now) => InitialAge + Math.Max(0, now - ResponseTime);

    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        return null;
    }

    public bool HasValidator => (Flags & StoredFlags.HasValidator) != 0;

    public byte[] Serialize()
    {
        var length = 2 + 4 + 8 * 5 + 1 + 2 + 4 + Body.Length;
        length += 2;
        foreach (var (name, value) in Headers.Concat(Tags))
        {
            length += 4 + Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value);
        }
        var data = new byte[length];
        var span = data.AsSpan();
        span[0] = FormatVersion;
        span[1] = ResponseKind;
        var at = 2;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Status);
        at += 4;
        foreach (var number in (ReadOnlySpan<long>)[ResponseTime, InitialAge, FreshnessLifetime, StaleWhileRevalidate, StaleIfError])
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], number);
            at += 8;
        }
        span[at++] = (byte)Flags;
        at += WritePairs(span[at..], Headers);
        at += WritePairs(span[at..], Tags);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Body.Length);
        at += 4;
        Body.Span.CopyTo(span[at..]);
        return data;
    }

    /// <summary>Reads what <see cref="Serialize"/> wrote; null for anything else (another format or a corrupt value).</summary>
    public static StoredResponse? Deserialize(byte[] data)
    {
        try
        {
            var span = data.AsSpan();
            if (span.Length < 2 || span[0] != FormatVersion || span[1] != ResponseKind)
            {
                return null;
            }
            var at = 2;
            var status = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
            at += 4;
            var responseTime = BinaryPrimitives.ReadInt64LittleEndian(span[at..]);
            var initialAge = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 8)..]);
            var lifetime = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 16)..]);
            var staleWhileRevalidate = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 24)..]);
            var staleIfError = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 32)..]);
            at += 40;
            var flags = (StoredFlags)span[at++];
            var headers = ReadPairs(span, ref at);
            var tags = ReadPairs(span, ref at);
            var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
            at += 4;
            if (bodyLength < 0 || at + bodyLength != data.Length)
            {
                return null;
            }
            return new StoredResponse
            {
                Status = status,
                ResponseTime = responseTime,
                InitialAge = initialAge,
                FreshnessLifetime = lifetime,
                StaleWhileRevalidate = staleWhileRevalidate,
                StaleIfError = staleIfError,
                Flags = flags,
                Headers = headers,
                Tags = tags,
                // The body is not copied: the cache's array is the hit's body.
                Body = data.AsMemory(at, bodyLength),
            };
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static int WritePairs(Span<byte> span, KeyValuePair<string, string>[] pairs)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)pairs.Length));
        var at = 2;
        foreach (var (name, value) in pairs)
        {
            at += WriteString(span[at..], name);
            at += WriteString(span[at..], value);
        }
        return at;
    }

    private static KeyValuePair<string, string>[] ReadPairs(ReadOnlySpan<byte> span, ref int at)
    {
        var pairs = new KeyValuePair<string, string>[BinaryPrimitives.ReadUInt16LittleEndian(span[at..])];
        at += 2;
        for (var i = 0; i < pairs.Length; i++)
        {
            var name = ReadString(span, ref at);
            pairs[i] = new(name, ReadString(span, ref at));
        }
        return pairs;
    }

    private static int WriteString(Span<byte> span, string value)
    {
        var written = Encoding.UTF8.GetBytes(value, span[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)written));
        return 2 + written;
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int at)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
        var value = Encoding.UTF8.GetString(span.Slice(at + 2, length));
        at += 2 + length;
        return value;
    }
}

/// <summary>What RFC 9111 says a cache may do with a stored response, decided when it was stored.</summary>
[Flags]
internal enum StoredFlags : byte
{
    None = 0,

    /// <summary><c>must-revalidate</c>, <c>proxy-revalidate</c> or <c>s-maxage</c>: never served stale.</summary>
    MustRevalidate = 1,

    /// <summary><c>no-cache</c>: validated with the origin before every use.</summary>
    NoCache = 2,

    /// <summary>It has an <c>ETag</c> or <c>Last-Modified</c>, so a stale copy can be revalidated instead of refetched.</summary>
    HasValidator = 4,
}

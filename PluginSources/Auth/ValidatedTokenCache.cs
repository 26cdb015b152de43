using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Gateway.Plugins.Auth;

/// <summary>
/// Tokens that passed validation, remembered until they expire, so a client reusing its token (the common case) costs
/// a hash and a lookup instead of a signature check (microseconds to tens of them: `bench/RESULTS.md`, issue 4). Entries are keyed by the
/// token's SHA-256, never by the token. Bounded: when full it starts over.
/// </summary>
internal sealed class ValidatedTokenCache(TimeProvider time, int capacity)
{
    private readonly ConcurrentDictionary<TokenDigest, Entry> _entries = new();

    public static TokenDigest Digest(ReadOnlySpan<char> token)
    {
        Span<byte> hash = stackalloc byte[32];
        Sha256.Hash(token, hash);
        return MemoryMarshal.Read<TokenDigest>(hash);
    }

    public bool TryGet(TokenDigest digest, out AuthOutcome outcome)
    {
        if (_entries.TryGetValue(digest, out var entry))
        {
            if (time.GetUtcNow() < entry.ExpiresAt)
            {
                outcome = entry.Outcome;
                return true;
            }
            _entries.TryRemove(digest, out _);
        }
        outcome = default;
        return false;
    }

    public void Add(TokenDigest digest, AuthOutcome outcome, DateTimeOffset expiresAt)
    {
        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }
        _entries[digest] = new Entry(outcome, expiresAt);
    }

    private sealed record Entry(AuthOutcome Outcome, DateTimeOffset ExpiresAt);
}

/// <summary>A SHA-256, as a dictionary key.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct TokenDigest(ulong A, ulong B, ulong C, ulong D);

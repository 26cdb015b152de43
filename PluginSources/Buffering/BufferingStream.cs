using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Buffering;

/// <summary>
/// Holds what is written to it in pooled chunks until it is disposed, when the whole answer is in, then writes it to
/// the client. Past the answer's bound or the entry's budget, or for a stream of events, it writes what it holds and
/// passes the rest straight through.
/// </summary>
internal sealed class BufferingStream : Stream
{
    private const int ChunkSize = 64 * 1024;

    private readonly Stream _inner;
    private readonly HttpResponse _response;
    private readonly int _maxBytes;
    private readonly MemoryBudget _budget;
    private readonly List<byte[]> _chunks = [];
    private int _lastChunkUsed = ChunkSize;
    private long _held;
    private bool _passThrough;
    private bool _decided;

    public BufferingStream(Stream inner, HttpResponse response, int maxBytes, MemoryBudget budget)
    {
        _inner = inner;
        _response = response;
        _maxBytes = maxBytes;
        _budget = budget;
        // Whatever becomes of the request (a stage's fault drops this stream undisposed), its memory goes back at the end.
        response.OnCompleted(static state =>
        {
            ((BufferingStream)state).ReturnChunks();
            return Task.CompletedTask;
        }, this);
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_decided)
        {
            _decided = true;
            // Events must reach the client as they come.
            _passThrough = _response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        }
        if (!_passThrough && !TryHold(buffer.Span))
        {
            await ReleaseAsync(cancellationToken).ConfigureAwait(false);
            _passThrough = true;
        }
        if (_passThrough)
        {
            await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool TryHold(ReadOnlySpan<byte> bytes)
    {
        if (_held + bytes.Length > _maxBytes)
        {
            return false;
        }
        while (!bytes.IsEmpty)
        {
            if (_lastChunkUsed == ChunkSize)
            {
                if (!_budget.TryTake(ChunkSize))
                {
                    return false;
                }
                _chunks.Add(ArrayPool<byte>.Shared.Rent(ChunkSize));
                _lastChunkUsed = 0;
            }
            var count = Math.Min(bytes.Length, ChunkSize - _lastChunkUsed);
            bytes[..count].CopyTo(_chunks[^1].AsSpan(_lastChunkUsed));
            _lastChunkUsed += count;
            _held += count;
            bytes = bytes[count..];
        }
        return true;
    }

    /// <summary>Writes what is held to the client and gives its memory back.</summary>
    private async ValueTask ReleaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            for (var i = 0; i < _chunks.Count; i++)
            {
                var used = i == _chunks.Count - 1 ? _lastChunkUsed : ChunkSize;
                await _inner.WriteAsync(_chunks[i].AsMemory(0, used), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ReturnChunks();
        }
    }

    private void ReturnChunks()
    {
        foreach (var chunk in _chunks)
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        _budget.Give((long)_chunks.Count * ChunkSize);
        _chunks.Clear();
        _lastChunkUsed = ChunkSize;
        _held = 0;
    }

    // Held bytes wait for the whole answer; a flush only matters once they pass through.
    public override void Flush()
    {
        if (_passThrough)
        {
            _inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _passThrough ? _inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>The whole answer is in: the client gets it now, at its own pace.</summary>
    public override async ValueTask DisposeAsync()
    {
        await ReleaseAsync(_response.HttpContext.RequestAborted).ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

}

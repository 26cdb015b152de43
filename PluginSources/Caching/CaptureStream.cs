using System.Buffers;

namespace Gateway.Plugins.Caching;

/// <summary>
/// The client's response body stream, copying what passes through it for the cache up to a limit. Past the limit it
/// stops copying and lets go of what it held, so a large body streams through without ever being held in memory.
/// </summary>
internal sealed class CaptureStream(Stream inner, int limit, long? contentLength) : Stream
{
    // With a known length the copy goes straight into an array of that size; otherwise into a growing pooled buffer.
    private byte[]? _buffer = contentLength switch
    {
        null => ArrayPool<byte>.Shared.Rent(Math.Min(limit, 16 * 1024)),
        { } length when length <= limit => new byte[length],
        _ => null,
    };
    private readonly bool _pooled = contentLength is null;
    private int _length;

    public bool Overflowed { get; private set; } = contentLength > limit;

    /// <summary>The whole body, if it was all seen and fits; releases the buffer either way.</summary>
    public byte[]? TakeBody()
    {
        var buffer = _buffer;
        _buffer = null;
        if (buffer is null || Overflowed || (contentLength is { } length && _length != length))
        {
            Release(buffer);
            return null;
        }
        if (!_pooled)
        {
            return buffer;
        }
        var body = buffer.AsSpan(0, _length).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);
        return body;
    }

    private void Capture(ReadOnlySpan<byte> data)
    {
        if (_buffer is null)
        {
            return;
        }
        if (_length + (long)data.Length > Math.Min(limit, contentLength ?? long.MaxValue))
        {
            Overflowed = true;
            Release(_buffer);
            _buffer = null;
            return;
        }
        if (_length + data.Length > _buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Min(limit, Math.Max(_buffer.Length * 2, _length + data.Length)));
            _buffer.AsSpan(0, _length).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = grown;
        }
        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    private void Release(byte[]? buffer)
    {
        if (buffer is not null && _pooled)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Capture(buffer);
        inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Capture(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

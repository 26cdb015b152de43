namespace Gateway.AccessLog;

/// <summary>Stands in front of the server's request body on a logged request and counts the bytes read from it.</summary>
internal sealed class CountingRequestBody : Stream
{
    private Stream _inner = null!;

    /// <summary>The body bytes read since <see cref="Attach"/>.</summary>
    public long Bytes { get; private set; }

    public Stream Inner => _inner;

    public void Attach(Stream inner)
    {
        _inner = inner;
        Bytes = 0;
    }

    /// <summary>Lets go of the server's stream, which belongs to the next request.</summary>
    public void Detach() => _inner = null!;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        Bytes += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var reading = _inner.ReadAsync(buffer, cancellationToken);
        if (reading.IsCompletedSuccessfully)
        {
            Bytes += reading.Result;
            return reading;
        }
        return CountAsync(reading);
    }

    private async ValueTask<int> CountAsync(ValueTask<int> reading)
    {
        var read = await reading.ConfigureAwait(false);
        Bytes += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.AccessLog;

/// <summary>
/// Stands in front of the server's response body on a logged request and counts the body bytes written, whether
/// through the stream (YARP's copy, a stage's wrapper) or the pipe writer (a cached body), without copying them.
/// </summary>
internal sealed class CountingResponseBody : IHttpResponseBodyFeature
{
    private readonly CountingWriter _writer;
    private readonly CountingStream _stream;
    private IHttpResponseBodyFeature _inner = null!;

    public CountingResponseBody()
    {
        _writer = new CountingWriter(this);
        _stream = new CountingStream(this);
    }

    /// <summary>The body bytes written since <see cref="Attach"/>.</summary>
    public long Bytes { get; private set; }

    public IHttpResponseBodyFeature Inner => _inner;

    public void Attach(IHttpResponseBodyFeature inner)
    {
        _inner = inner;
        Bytes = 0;
    }

    /// <summary>Lets go of the server's feature, which belongs to the next request.</summary>
    public void Detach() => _inner = null!;

    public Stream Stream => _stream;

    public PipeWriter Writer => _writer;

    public void DisableBuffering() => _inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        Bytes += count ?? new FileInfo(path).Length - offset;
        return _inner.SendFileAsync(path, offset, count, cancellationToken);
    }

    public Task CompleteAsync() => _inner.CompleteAsync();

    private sealed class CountingWriter(CountingResponseBody body) : PipeWriter
    {
        public override void Advance(int bytes)
        {
            body.Bytes += bytes;
            body._inner.Writer.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => body._inner.Writer.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => body._inner.Writer.GetSpan(sizeHint);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            body.Bytes += source.Length;
            return body._inner.Writer.WriteAsync(source, cancellationToken);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => body._inner.Writer.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => body._inner.Writer.CancelPendingFlush();

        public override bool CanGetUnflushedBytes => body._inner.Writer.CanGetUnflushedBytes;

        public override long UnflushedBytes => body._inner.Writer.UnflushedBytes;

        public override void Complete(Exception? exception = null) => body._inner.Writer.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => body._inner.Writer.CompleteAsync(exception);
    }

    private sealed class CountingStream(CountingResponseBody body) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            body.Bytes += buffer.Length;
            body._inner.Stream.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            body.Bytes += buffer.Length;
            return body._inner.Stream.WriteAsync(buffer, cancellationToken);
        }

        public override void Flush() => body._inner.Stream.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => body._inner.Stream.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

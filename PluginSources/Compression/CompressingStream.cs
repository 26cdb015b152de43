using System.IO.Compression;
using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Compression;

/// <summary>
/// The response body on its way to a client that takes <c>br</c> or <c>gzip</c>: at the first write or flush, when
/// every stage is done with the headers, it decides whether this response is compressed (and says so in its fields);
/// from then on it compresses or passes the bytes through. Disposing it writes the encoder's last block.
/// </summary>
internal sealed class CompressingStream(Stream inner, HttpContext http, CompressionPlugin plugin, string coding) : Stream
{
    private Stream? _target;

    private Stream Target => _target ??= plugin.StartEncoding(http, coding, inner) ?? inner;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Target.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => Target.Write(buffer);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Target.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        Target.WriteAsync(buffer, cancellationToken);

    public override void Flush() => Target.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Target.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        // The encoder leaves the client's stream open: the server completes that one.
        if (_target is not null && _target != inner)
        {
            await _target.DisposeAsync().ConfigureAwait(false);
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _target is not null && _target != inner)
        {
            _target.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>The encoder for <paramref name="coding"/>, writing to <paramref name="body"/> and leaving it open.</summary>
    public static Stream Encoder(string coding, Stream body, CompressionLevel level) => coding == "br"
        ? new BrotliStream(body, level, leaveOpen: true)
        : new GZipStream(body, level, leaveOpen: true);
}

using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.AccessLog;

/// <summary>
/// A logging provider for the access log's category alone (<c>Gateway:AccessLog:File</c>): each line is appended to a
/// buffer on the request's thread and the buffer written to the file four times a second (or whenever it holds 64 KiB),
/// so a line costs its formatting and a copy, where a console logger hands every line to its writer thread and wakes
/// it. Lines still in the buffer are written when the gateway stops; a crash loses at most a quarter of a second.
/// </summary>
internal sealed class AccessLogFile : ILoggerProvider
{
    private const int FlushAtBytes = 64 * 1024;
    private static readonly TimeSpan FlushEvery = TimeSpan.FromMilliseconds(250);

    private readonly Lock _gate = new();
    private readonly Lock _writing = new();
    private readonly FileStream? _file;
    private readonly ITimer _timer;
    private readonly LineLogger _logger;
    private MemoryStream _buffer = new(FlushAtBytes * 2);
    private MemoryStream _spare = new(FlushAtBytes * 2);
    private long _lost;

    public AccessLogFile(string path, TimeProvider time)
    {
        try
        {
            // Appending, and sharing it with log rotation (move, copy-truncate) and readers.
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // Made while the host builds its logging, where a throw would be a crash with a stack trace: the start fails
            // on it instead, naming the setting (GatewayStartup).
            OpenError = $"{AccessLogOptions.SectionName}:File '{path}' cannot be opened for appending: {ex.Message}";
        }
        _logger = new LineLogger(this);
        _timer = time.CreateTimer(static state => ((AccessLogFile)state!).Flush(), this, FlushEvery, FlushEvery);
    }

    /// <summary>Why the file could not be opened; null when it was.</summary>
    public string? OpenError { get; }

    /// <summary>Lines that could not be written (the disk full, the file gone): counted, never thrown at a request.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    public ILogger CreateLogger(string categoryName) =>
        categoryName == AccessLogOptions.Category ? _logger : NullLogger.Instance;

    private void Append(string line)
    {
        var full = false;
        lock (_gate)
        {
            var length = Encoding.UTF8.GetByteCount(line);
            var start = (int)_buffer.Length;
            _buffer.SetLength(start + length + 1);
            Encoding.UTF8.GetBytes(line, _buffer.GetBuffer().AsSpan(start));
            _buffer.GetBuffer()[start + length] = (byte)'\n';
            full = _buffer.Length >= FlushAtBytes;
        }
        if (full)
        {
            Flush();
        }
    }

    /// <summary>Writes what the buffer holds; the requests fill the other buffer meanwhile.</summary>
    public void Flush()
    {
        lock (_writing)
        {
            MemoryStream pending;
            lock (_gate)
            {
                if (_buffer.Length == 0)
                {
                    return;
                }
                pending = _buffer;
                _buffer = _spare;
            }
            try
            {
                (_file ?? throw new IOException(OpenError)).Write(pending.GetBuffer(), 0, (int)pending.Length);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
            {
                // A timer's thread or a request's: neither may be failed by the disk.
                Interlocked.Add(ref _lost, pending.GetBuffer().AsSpan(0, (int)pending.Length).Count((byte)'\n'));
            }
            pending.SetLength(0);
            _spare = pending;
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        Flush();
        _file?.Dispose();
    }

    private sealed class LineLogger(AccessLogFile file) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                file.Append(formatter(state, exception));
            }
        }
    }
}

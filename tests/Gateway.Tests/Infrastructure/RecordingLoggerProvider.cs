using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>Keeps every log line of a test gateway, so tests can check what an operator would read.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();
    private readonly List<(Func<LogLine, bool> Match, TaskCompletionSource Seen)> _waiters = [];
    private readonly Lock _gate = new();

    public IReadOnlyCollection<LogLine> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    /// <summary>Completes once a line matching <paramref name="match"/> has been logged: a signal to wait on, not a sleep.</summary>
    public Task WaitForAsync(Func<LogLine, bool> match)
    {
        lock (_gate)
        {
            if (_lines.Any(match))
            {
                return Task.CompletedTask;
            }
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, seen));
            return seen.Task;
        }
    }

    /// <summary>Completes once <paramref name="count"/> lines matching <paramref name="match"/> have been logged.</summary>
    public Task WaitForCountAsync(Func<LogLine, bool> match, int count) => WaitForAsync(_ => _lines.Count(match) >= count);

    private void Record(LogLine line)
    {
        lock (_gate)
        {
            _lines.Enqueue(line);
            _waiters.RemoveAll(waiter => waiter.Match(line) && waiter.Seen.TrySetResult());
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, RecordingLoggerProvider recorder) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // Debug lines reach it only from categories a test turns on (--Logging:LogLevel:<category>=Debug).
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                recorder.Record(new LogLine(category, logLevel, eventId.Id, formatter(state, exception), exception));
            }
        }
    }
}

internal sealed record LogLine(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

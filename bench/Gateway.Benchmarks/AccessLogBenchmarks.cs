using System.Net;
using BenchmarkDotNet.Attributes;
using Gateway.AccessLog;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Benchmarks;

/// <summary>
/// The access log's own cost per request, in process: the middleware around a request that writes a 100-byte body,
/// with a logging provider that takes each line and drops it (<see cref="Format"/> false: what a structured provider
/// pays before its own work) or also renders its JSON message (true: what a text provider such as the console's asks
/// for). <see cref="Off"/> is the same request with the access log disabled.
/// </summary>
[MemoryDiagnoser]
public class AccessLogBenchmarks
{
    private static readonly byte[] Body = new byte[100];

    private readonly DefaultHttpContext _context = new();
    private AccessLogMiddleware _logged = null!;
    private RequestDelegate _off = null!;

    [Params(false, true)]
    public bool Format { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        RequestDelegate app = static context => context.Response.Body.WriteAsync(Body).AsTask();
        _off = app;
        var loggers = LoggerFactory.Create(logging => logging.AddProvider(new DroppingProvider(Format)));
        _logged = new AccessLogMiddleware(app, Options.Create(new AccessLogOptions { Enabled = true }), loggers, TimeProvider.System, static _ => false);
        _context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        var request = _context.Features.Get<IHttpRequestFeature>()!;
        request.Method = "GET";
        request.Protocol = "HTTP/1.1";
        request.Path = "/api/items";
        request.RawTarget = "/api/items?page=2";
        request.Headers.Host = "api.example.com";
        _context.Connection.RemoteIpAddress = IPAddress.Loopback;
    }

    [Benchmark(Baseline = true)]
    public Task Off() => _off(_context);

    [Benchmark]
    public Task Logged() => _logged.InvokeAsync(_context);

    private sealed class DroppingProvider(bool format) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Dropping(format);

        public void Dispose()
        {
        }

        private sealed class Dropping(bool format) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (format)
                {
                    _ = formatter(state, exception);
                }
            }
        }
    }
}

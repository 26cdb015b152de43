using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real redis-server on 127.0.0.1 and a free port, started from the binary <c>GATEWAY_TEST_REDIS_SERVER</c> names
/// (<c>.ci/run</c> sets it), without persistence. Can be stopped and started again on the same port.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string BinaryVariable = "GATEWAY_TEST_REDIS_SERVER";
    private readonly string _binary;
    private Process? _process;

    private RedisServer(string binary, int port)
    {
        _binary = binary;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var binary = Environment.GetEnvironmentVariable(BinaryVariable) ?? throw new InvalidOperationException($"{BinaryVariable} is not set");
        var server = new RedisServer(binary, LoopbackPorts.Free());
        await server.StartAgainAsync();
        return server;
    }

    public async Task StartAgainAsync()
    {
        _process = Process.Start(new ProcessStartInfo(_binary, ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not listen on {Port}");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>A test that needs a real Redis: skipped, saying why, where none is available (<c>.ci/run</c> provides one).</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public const string SharedVariable = "GATEWAY_TEST_REDIS";

    public RedisFactAttribute(bool needsOwnServer = false) => Skip = SkipWithout(needsOwnServer);

    /// <summary>Why a test must be skipped here; null where the Redis it needs is available.</summary>
    internal static string? SkipWithout(bool needsOwnServer)
    {
        var variable = needsOwnServer ? RedisServer.BinaryVariable : SharedVariable;
        return string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable))
            ? $"needs a Redis: set {variable} (.ci/run installs and starts one)"
            : null;
    }
}

/// <summary>A theory that needs a real Redis, as <see cref="RedisFactAttribute"/>.</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute(bool needsOwnServer = false) => Skip = RedisFactAttribute.SkipWithout(needsOwnServer);
}

using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Plugins;

/// <summary>
/// The first-party Buffering plugin between a real origin and a client that does not read: with it the origin's
/// answer is taken whole and its request ends while the client has read nothing; without it the origin waits for the
/// client. The body (16 MiB) is far more than the sockets on the way can hold.
/// </summary>
public sealed class BufferingPluginTests
{
    private const int BodyBytes = 16 << 20;

    private static async Task<(TestOrigin Origin, TaskCompletionSource Done)> OriginAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var origin = await TestOrigin.StartAsync("d1", respond: async (context, _) =>
        {
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'x');
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = BodyBytes;
            for (var sent = 0; sent < BodyBytes; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk);
            }
            await context.Response.CompleteAsync();
            done.TrySetResult();
        });
        return (origin, done);
    }

    private static Task<TestGateway> GatewayAsync(TestOrigin origin, bool buffering) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", origin)
        .FirstPartyPlugin("Buffering")
        .Pipeline(buffering
            ? """{ "pipeline": [ { "plugin": "Buffering", "config": { "maxBytes": 33554432, "maxTotalBytes": 67108864 } } ] }"""
            : """{ "pipeline": [] }""")
        .StartAsync();

    /// <summary>A connection that asks for the answer and reads none of it until told, with a small receive window.</summary>
    private static async Task<(TcpClient Client, NetworkStream Stream)> AskAsync(TestGateway gateway)
    {
        var address = gateway.Proxy.BaseAddress!;
        var client = new TcpClient { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /api/big HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\n\r\n"));
        return (client, stream);
    }

    private static async Task<long> ReadAllAsync(NetworkStream stream)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30))) > 0)
        {
            total += read;
        }
        return total;
    }

    [Fact]
    public async Task WithBuffering_TheOriginsAnswerIsTakenWhole_WhileTheClientHasReadNothing()
    {
        var (origin, done) = await OriginAsync();
        await using var _ = origin;
        await using var gateway = await GatewayAsync(origin, buffering: true);
        var (client, stream) = await AskAsync(gateway);
        using var __ = client;

        await done.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var received = await ReadAllAsync(stream);

        Assert.True(received > BodyBytes, $"{received} bytes");
    }

    [Fact]
    public async Task WithoutBuffering_TheOriginWaitsForTheClient()
    {
        var (origin, done) = await OriginAsync();
        await using var _ = origin;
        await using var gateway = await GatewayAsync(origin, buffering: false);
        var (client, stream) = await AskAsync(gateway);
        using var __ = client;

        // An absence has no signal: the origin cannot finish while the client reads nothing, and a second is far more
        // than it needs otherwise (buffered, it finishes in a few milliseconds). A client that reads as it comes is no
        // proof either: the kernel's receive buffers grow with it (32 MiB here) and the origin may finish first.
        var finishedUnread = await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(1))) == done.Task;
        var received = await ReadAllAsync(stream);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.False(finishedUnread);
        Assert.True(received > BodyBytes, $"{received} bytes");
    }

    [Fact]
    public async Task AnAnswerPastMaxBytes_StreamsThrough_Whole()
    {
        var (origin, _) = await OriginAsync();
        await using var __ = origin;
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", origin)
            .FirstPartyPlugin("Buffering")
            .Pipeline("""{ "pipeline": [ { "plugin": "Buffering", "config": { "maxBytes": 1048576 } } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/big");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(BodyBytes, body.Length);
    }

    [Theory]
    [InlineData("""{ "maxBytes": 0 }""", "$.pipeline[0].config.maxBytes")]
    [InlineData("""{ "maxBytes": 2048, "maxTotalBytes": 1024 }""", "$.pipeline[0].config.maxTotalBytes")]
    public async Task BadConfig_IsRejectedNamingTheField(string config, string path)
    {
        var (origin, _) = await OriginAsync();
        await using var __ = origin;
        await using var gateway = await GatewayAsync(origin, buffering: true);
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "Buffering", "config": {{config}} } ] }""");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal(path, (string?)error["path"]);
    }
}

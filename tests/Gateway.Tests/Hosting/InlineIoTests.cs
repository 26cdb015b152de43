using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// Inline I/O (<c>Gateway:InlineIo</c>, on by default in the gateway's executable) runs socket completions on the
/// runtime's few socket threads, each serving many connections. Against a gateway in a process of its own: steps that
/// may block (plugins not marked <c>[NonBlocking]</c>) start on the thread pool, so plugins blocked in the worst way
/// (waiting synchronously for their own HTTP call) hold up their own requests and no other connection; a plugin marked
/// <c>[NonBlocking]</c> runs where the request is; with the setting off, every step runs on the pool.
/// </summary>
public sealed class InlineIoTests
{
    private const int Blocked = 4;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task BlockingPlugins_RunOnThePool_AndHoldUpNoOtherConnection()
    {
        var arrived = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gate = await TestOrigin.StartAsync("gate", respond: async (context, _) =>
        {
            if (Interlocked.Increment(ref arrived) == Blocked)
            {
                allArrived.TrySetResult();
            }
            await release.Task;
        });
        await using var origin = await TestOrigin.StartAsync("d1");
        await using var gateway = await Gateway(origin, gate.Url).StartProcessAsync();

        // A client per request: a connection per request.
        var clients = Enumerable.Range(0, Blocked + 20).Select(_ => new HttpClient { BaseAddress = gateway.Proxy.BaseAddress, Timeout = Bound }).ToArray();
        try
        {
            // A connection's first request is handed to the pool as it is accepted; the next ones come off its socket.
            foreach (var client in clients[..Blocked])
            {
                using var first = await client.GetAsync("open/x");
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            }
            // Two middleware plugins and two filters, each blocking a thread until the gate answers its own call.
            var blocked = clients[..Blocked]
                .Select((client, i) => client.GetAsync(i % 2 == 0 ? "blocking-middleware/x" : "blocking-filter/x"))
                .ToArray();
            await allArrived.Task.WaitAsync(Bound);

            var others = await Task.WhenAll(clients[Blocked..].Select(client => client.GetAsync("open/x"))).WaitAsync(Bound);
            Assert.All(others, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
            Assert.All(blocked, request => Assert.False(request.IsCompleted));

            release.SetResult();
            foreach (var response in await Task.WhenAll(blocked).WaitAsync(Bound))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("true,true", response.Headers.GetValues("x-on-pool").Single());
            }
            Assert.False(gateway.HasExited);
        }
        finally
        {
            release.TrySetResult();
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task NonBlockingPlugin_RunsOnTheSocketThread_UnlessInlineIoIsOff()
    {
        await using var origin = await TestOrigin.StartAsync("d1");
        await using (var gateway = await Gateway(origin, origin.Url).StartProcessAsync())
        {
            // A connection's first request is handed to the pool as it is accepted; the next ones come off its socket.
            var threads = await StepThreadsAsync(gateway.Proxy);
            Assert.Contains("false,false", threads);
        }
        await using (var gateway = await Gateway(origin, origin.Url).Arg("--Gateway:InlineIo=false").StartProcessAsync())
        {
            var threads = await StepThreadsAsync(gateway.Proxy);
            Assert.All(threads, steps => Assert.Equal("true,true", steps));
        }
    }

    private static TestGatewayBuilder Gateway(TestOrigin origin, string blockOn) =>
        TestGateway.Create()
            .Route("blocking-middleware", "/blocking-middleware/{**rest}", "backend")
            .Route("blocking-filter", "/blocking-filter/{**rest}", "backend")
            .Route("non-blocking", "/non-blocking/{**rest}", "backend")
            .Route("open", "/open/{**rest}", "backend")
            .Cluster("backend", origin)
            .TestPlugin("Probe")
            .TestPlugin("FilterProbe")
            .TestPlugin("NonBlockingProbe")
            .Pipeline($$"""
                { "pipeline": [
                  { "plugin": "Probe", "routes": ["blocking-middleware"], "config": { "tag": "m", "blockOn": "{{blockOn}}", "reportThreads": true } },
                  { "plugin": "FilterProbe", "routes": ["blocking-filter"], "config": { "tag": "f", "blockOn": "{{blockOn}}", "reportThreads": true } },
                  { "plugin": "NonBlockingProbe", "routes": ["non-blocking"], "config": { "tag": "n", "reportThreads": true } }
                ] }
                """);

    // Where the non-blocking probe's request and response steps ran, for ten requests on one connection.
    private static async Task<string[]> StepThreadsAsync(HttpClient proxy)
    {
        var threads = new string[10];
        for (var i = 0; i < threads.Length; i++)
        {
            using var response = await proxy.GetAsync("non-blocking/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            threads[i] = response.Headers.GetValues("x-on-pool").Single();
        }
        return threads;
    }
}

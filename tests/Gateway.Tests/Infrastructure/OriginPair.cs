namespace Gateway.Tests.Infrastructure;

/// <summary>Two fresh origins, <c>d1</c> and <c>d2</c>: the upstreams of tests that need to tell destinations apart.</summary>
internal sealed class OriginPair : IAsyncDisposable
{
    private OriginPair(TestOrigin d1, TestOrigin d2) => (D1, D2) = (d1, d2);

    public TestOrigin D1 { get; }

    public TestOrigin D2 { get; }

    public static async Task<OriginPair> StartAsync()
    {
        var d1 = await TestOrigin.StartAsync("d1");
        try
        {
            return new OriginPair(d1, await TestOrigin.StartAsync("d2"));
        }
        catch
        {
            await d1.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await D1.DisposeAsync();
        await D2.DisposeAsync();
    }
}

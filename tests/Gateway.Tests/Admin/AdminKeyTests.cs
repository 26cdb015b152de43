using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

public sealed class AdminKeyTests
{
    [Fact]
    public async Task Start_WithoutConfiguredKey_GeneratesOneLogsItOnceAndAcceptsIt()
    {
        await using var gateway = await TestGateway.Create().Route("api", "/api/{**rest}", "backend").Arg("--Gateway:Admin:ApiKey=").StartAsync();

        var logged = Assert.Single(gateway.Logs.Lines, line => line.EventId == EventIds.AdminKeyGenerated);
        var key = logged.Message.Split(' ')[^1];
        using var client = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);

        using var response = await client.GetAsync("admin/pipeline");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        (await gateway.Admin.GetAsync("admin/pipeline")).Dispose();
        Assert.Single(gateway.Logs.Lines, line => line.EventId == EventIds.AdminKeyGenerated);
    }
}

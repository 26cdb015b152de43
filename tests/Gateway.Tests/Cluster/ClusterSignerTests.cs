using Gateway.Cluster;

namespace Gateway.Tests.Cluster;

/// <summary>A cluster message opens only with its cluster's secret, as the kind it was signed as, unaltered.</summary>
public sealed class ClusterSignerTests
{
    private readonly ClusterSigner _signer = new("signer-test-secret-0123456789");

    [Fact]
    public void ItsOwnMessage_Opens()
    {
        Assert.Equal("""{"sequence":1}""", _signer.Open("order", _signer.Sign("order", """{"sequence":1}""")));
    }

    [Theory]
    [InlineData("""{"sequence":2}""")] // the JSON changed
    [InlineData(null)] // signed as another kind
    public void AnAlteredMessage_DoesNotOpen(string? json)
    {
        var signed = _signer.Sign("order", """{"sequence":1}""");
        var altered = json is null ? _signer.Sign("state", """{"sequence":1}""") : signed[..signed.LastIndexOf('{')] + json;

        Assert.Null(_signer.Open("order", altered));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"sequence\":1}")]
    [InlineData("v1.zz.{}")]
    [InlineData("v1.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg.{}")]
    public void AnythingElse_DoesNotOpen(string message) => Assert.Null(_signer.Open("order", message));

    [Fact]
    public void AnotherSecret_NamesAnotherCluster_AndItsMessagesDoNotOpen()
    {
        var other = new ClusterSigner("another-secret-0123456789");

        Assert.NotEqual(_signer.ClusterId, other.ClusterId);
        Assert.Null(_signer.Open("order", other.Sign("order", "{}")));
    }
}

using Gateway.Plugins.Compression;
using Microsoft.Extensions.Primitives;

namespace Gateway.Plugins.Tests.Compression;

/// <summary>RFC 9110 §12.5.3 Accept-Encoding against the offered codings, and the configured media types.</summary>
public sealed class NegotiationTests
{
    [Theory]
    [InlineData("br, gzip", "br")]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData("BR;Q=0.5", "br")]
    [InlineData("*", "br")]
    [InlineData("*;q=0.1, br;q=0", "gzip")]
    [InlineData("gzip;q=0, *;q=0", null)]
    [InlineData("identity", null)]
    [InlineData("deflate", null)]
    [InlineData("", null)]
    public void TheFirstOfferedCodingTheClientTakes_IsChosen(string acceptEncoding, string? expected) =>
        Assert.Equal(expected, ContentCoding.Choose(new StringValues(acceptEncoding), ["br", "gzip"]));

    [Fact]
    public void TheGatewaysOrder_DecidesBetweenCodingsTheClientTakesAlike() =>
        Assert.Equal("gzip", ContentCoding.Choose(new StringValues("br, gzip"), ["gzip", "br"]));

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("APPLICATION/JSON", true)]
    [InlineData("text/html", true)]
    [InlineData("application/problem+json", true)]
    [InlineData("application/atom+xml", true)]
    [InlineData("image/png", false)]
    [InlineData("application/zip", false)]
    [InlineData("application/jsonp", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void MediaTypes_MatchExactlyBySubtypeOrBySuffix(string? contentType, bool compressed) =>
        Assert.Equal(compressed, MediaTypes.Parse(["application/json", "text/*", "application/*+json", "application/*+xml"], "$.types").Contains(contentType));

    [Theory]
    [InlineData("json")]
    [InlineData("text/")]
    [InlineData("text/html; charset=utf-8")]
    public void AnEntryThatIsNoMediaType_IsRefusedNamingIt(string entry) =>
        Assert.Equal("$.types[1]", Assert.Throws<PluginConfigurationException>(() => MediaTypes.Parse(["text/*", entry], "$.types")).Path);
}

using System.Net;
using System.Text.Json;
using Gateway.Plugins.IpFilter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Plugins.Tests.IpFilter;

/// <summary>Deny wins; an allow list must hold the address; without one every address not denied passes.</summary>
public sealed class IpFilterDecisionTests
{
    private static IpFilterPlugin Plugin(string config) =>
        new(new PluginSetup("IpFilter", JsonDocument.Parse(config).RootElement, NullLogger.Instance, new ServiceCollection().BuildServiceProvider()));

    private static bool Allowed(string config, string? address) =>
        Plugin(config).IsAllowed(address is null ? null : AddressRanges.ToKey(IPAddress.Parse(address)));

    [Theory]
    [InlineData("""{ "deny": ["192.0.2.0/24"] }""", "192.0.2.9", false)]
    [InlineData("""{ "deny": ["192.0.2.0/24"] }""", "198.51.100.1", true)]
    [InlineData("""{ "allow": ["10.0.0.0/8"] }""", "10.9.9.9", true)]
    [InlineData("""{ "allow": ["10.0.0.0/8"] }""", "11.0.0.1", false)]
    [InlineData("""{ "allow": ["10.0.0.0/8"], "deny": ["10.6.0.0/16"] }""", "10.6.1.1", false)]
    [InlineData("""{ "allow": ["10.0.0.0/8"], "deny": ["10.6.0.0/16"] }""", "10.7.1.1", true)]
    [InlineData("""{ "allow": ["10.0.0.0/8", "::1/128"], "deny": ["192.0.2.0/24", "2001:db8::/32"] }""", "::1", true)]
    [InlineData("""{ "allow": ["10.0.0.0/8", "::1/128"], "deny": ["192.0.2.0/24", "2001:db8::/32"] }""", "::ffff:10.0.0.1", true)]
    [InlineData("""{ "allow": [], "deny": ["2001:db8::/32"] }""", "2001:db8::5", false)]
    [InlineData("""{ "allow": [], "deny": ["2001:db8::/32"] }""", "2001:db9::5", true)]
    // No IP address (a Unix socket): only where no allow list asks for one.
    [InlineData("""{ "deny": ["192.0.2.0/24"] }""", null, true)]
    [InlineData("""{ "allow": ["10.0.0.0/8"] }""", null, false)]
    public void TheDecision_FollowsTheDocumentedOrder(string config, string? address, bool allowed) =>
        Assert.Equal(allowed, Allowed(config, address));

    [Theory]
    [InlineData("{}")]
    [InlineData("""{ "allow": [], "deny": [] }""")]
    public void NoRule_IsAConfigError(string config) =>
        Assert.Equal("$", Assert.Throws<PluginConfigurationException>(() => Plugin(config)).Path);
}

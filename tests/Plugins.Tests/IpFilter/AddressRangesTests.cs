using System.Net;
using Gateway.Plugins.IpFilter;

namespace Gateway.Plugins.Tests.IpFilter;

/// <summary>Addresses and CIDR ranges, IPv4 and IPv6, in one 128-bit space where IPv4 is its mapped form.</summary>
public sealed class AddressRangesTests
{
    private static bool Holds(string entry, string address) =>
        AddressRanges.Parse([entry], "$.deny").Contains(IPAddress.Parse(address));

    [Theory]
    // IPv4 ranges and their edges.
    [InlineData("10.0.0.0/8", "10.0.0.0", true)]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "9.255.255.255", false)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("192.0.2.0/24", "192.0.2.77", true)]
    [InlineData("192.0.2.0/24", "192.0.3.0", false)]
    [InlineData("192.0.2.128/25", "192.0.2.127", false)]
    [InlineData("192.0.2.128/25", "192.0.2.128", true)]
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7/32", "192.0.2.8", false)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    // A client on a dual-stack listener arrives as an IPv4-mapped IPv6 address: the same client.
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "::ffff:11.1.2.3", false)]
    [InlineData("::ffff:10.0.0.0/104", "10.200.0.1", true)]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1", true)]
    // IPv6 ranges and their edges.
    [InlineData("2001:db8::/32", "2001:db8::1", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db8::/32", "2001:db9::", false)]
    [InlineData("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false)]
    [InlineData("::1/128", "::1", true)]
    [InlineData("::1", "::2", false)]
    [InlineData("::1", "127.0.0.1", false)]
    [InlineData("fe80::/10", "febf::1", true)]
    [InlineData("fe80::/10", "fec0::1", false)]
    // ::/0 is every address, IPv4 included (as mapped addresses).
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("::/0", "198.51.100.1", true)]
    public void AnEntry_HoldsExactlyItsAddresses(string entry, string address, bool held) =>
        Assert.Equal(held, Holds(entry, address));

    [Theory]
    [InlineData("10.0.0.1/8", "bits set past its prefix length: the range is written 10.0.0.0/8")]
    [InlineData("2001:db8::1/32", "the range is written 2001:db8::/32")]
    [InlineData("10.0.0.0/33", "no prefix length from 0 to 32")]
    [InlineData("2001:db8::/129", "no prefix length from 0 to 128")]
    [InlineData("10.0.0.0/", "no prefix length")]
    [InlineData("10.0.0.0/+8", "no prefix length")]
    [InlineData("10.1", "is not an IP address")]
    [InlineData("localhost", "is not an IP address")]
    [InlineData("", "is not an IP address")]
    [InlineData("fe80::1%eth0", "is not an IP address")]
    public void AnEntryThatIsNoRange_IsRefusedNamingIt(string entry, string message)
    {
        var error = Assert.Throws<PluginConfigurationException>(() => AddressRanges.Parse(["192.0.2.0/24", entry], "$.allow"));

        Assert.Equal("$.allow[1]", error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingAndAdjacentRanges_Merge_AndLookupsStayExact()
    {
        var ranges = AddressRanges.Parse(["10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "192.0.2.0/24", "::/0"], "$.deny");

        Assert.Equal(1, ranges.Count);

        var disjoint = AddressRanges.Parse(["10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "192.0.2.0/25", "192.0.2.200"], "$.deny");
        Assert.Equal(3, disjoint.Count);
        Assert.True(disjoint.Contains(IPAddress.Parse("10.200.0.1")));
        Assert.True(disjoint.Contains(IPAddress.Parse("192.0.2.200")));
        Assert.False(disjoint.Contains(IPAddress.Parse("192.0.2.199")));
        Assert.False(disjoint.Contains(IPAddress.Parse("11.0.0.0")));
    }

    [Fact]
    public void AThousandRanges_AnswerAsAScanWould()
    {
        var random = new Random(7);
        var entries = Enumerable.Range(0, 1000).Select(_ => $"{random.Next(1, 224)}.{random.Next(256)}.{random.Next(256)}.0/24").ToArray();
        var ranges = AddressRanges.Parse(entries, "$.deny");
        var networks = entries.Select(entry => System.Net.IPNetwork.Parse(entry)).ToArray();

        for (var i = 0; i < 10_000; i++)
        {
            var address = new IPAddress(random.Next() * 2L & 0xffff_ffffL);
            Assert.Equal(networks.Any(network => network.Contains(address)), ranges.Contains(address));
        }
    }
}

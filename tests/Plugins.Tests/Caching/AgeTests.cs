using Gateway.Plugins.Caching;
using Microsoft.Extensions.Primitives;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>RFC 9111 §5.1: the first member of Age counts; an invalid one is ignored.</summary>
public sealed class AgeTests
{
    [Theory]
    [InlineData(new[] { "60" }, 60)]
    [InlineData(new[] { "7200, 0" }, 7200)]
    [InlineData(new[] { "7200,0" }, 7200)]
    [InlineData(new[] { " 7200 , 10" }, 7200)]
    [InlineData(new[] { "7200", "0" }, 7200)]
    [InlineData(new[] { "7200, abc" }, 7200)]
    [InlineData(new[] { "abc, 7200" }, 0)]
    [InlineData(new[] { "-5" }, 0)]
    [InlineData(new[] { "+5" }, 0)]
    [InlineData(new[] { "1.5" }, 0)]
    [InlineData(new[] { "" }, 0)]
    [InlineData(new[] { "99999999999999999999" }, 2147483648)]
    public void FirstMember_Counts_AnInvalidOneIsIgnored(string[] lines, long expected) =>
        Assert.Equal(expected, StoragePolicy.ParseAge(new StringValues(lines)));
}

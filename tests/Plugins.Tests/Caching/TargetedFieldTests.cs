using Gateway.Plugins.Caching;

namespace Gateway.Plugins.Tests.Caching;

/// <summary>RFC 9213 targeted fields: RFC 8941 dictionaries, parsed all or nothing, read as cache directives.</summary>
public sealed class TargetedFieldTests
{
    private static CacheControl? Read(params string[] lines) =>
        StructuredDictionary.TryParse(lines, out var members) ? CacheControl.FromTargeted(members) : null;

    [Theory]
    [InlineData("max-age=60", 60)]
    [InlineData("max-age=60, s-maxage=30", 60)]
    [InlineData("max-age=10, max-age=60", 60)] // a dictionary keeps a repeated key's last value
    [InlineData("max-age=60;x=1", 60)]
    [InlineData("max-age=\"60\"", CacheControl.Absent)] // not an integer: the directive is ignored
    [InlineData("max-age=-1", CacheControl.Absent)]
    [InlineData("max-age=6.5", CacheControl.Absent)]
    [InlineData("max-age", CacheControl.Absent)] // a bare key is true, not a number
    public void DeltaSeconds_AreIntegers(string field, int maxAge) => Assert.Equal(maxAge, Read(field)!.Value.MaxAge);

    [Fact]
    public void Flags_AreBareKeysOrTrue_AndFieldListsStrings()
    {
        var read = Read("no-store=?0, must-revalidate, public=?1, private=\"x-user, x-tenant\"", "stale-if-error=30")!.Value;

        Assert.False(read.NoStore);
        Assert.True(read.MustRevalidate);
        Assert.True(read.Public);
        Assert.False(read.Private);
        Assert.Equal(["x-user", "x-tenant"], read.PrivateFields!);
        Assert.Equal(30, read.StaleIfError);
    }

    [Theory]
    [InlineData("Max-Age=60")]
    [InlineData("max-age=60,")]
    [InlineData(",max-age=60")]
    [InlineData("max-age=60 s-maxage=1")]
    [InlineData("max-age=1234567890123456")]
    [InlineData("private=\"x")]
    [InlineData("no-store=?2")]
    [InlineData("max-age = 60")]
    [InlineData("max-age=60;")]
    public void AnInvalidField_IsNotADictionary(string field) => Assert.Null(Read(field));

    [Fact]
    public void ListsTokensAndByteSequences_AreValidMembers()
    {
        Assert.NotNull(Read("a=(1 2 \"x\");p, b=token/x:y, c=:aGVsbG8=:, d=-1.25"));
    }
}

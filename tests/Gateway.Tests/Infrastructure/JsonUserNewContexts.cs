namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Tests that count load contexts by plugin name run one at a time with the other tests loading that plugin: xunit
/// runs test classes in parallel, and a neighbour's context is indistinguishable by name.
/// </summary>
[CollectionDefinition(Name)]
public sealed class JsonUserNewContexts
{
    public const string Name = "JsonUserNew load contexts";
}

using System.Text.Json;
using Gateway.Pipeline;

namespace Gateway.Cluster;

/// <summary>A reload every node of the cluster is asked to make, numbered by the cluster: a node applies each sequence once.</summary>
internal sealed record ReloadOrder(long Sequence, string Origin, DateTimeOffset IssuedAt)
{
    public const string Kind = "order";
}

/// <summary>
/// What a node says of itself, on every heartbeat and at once after a reload: where it listens, what it serves, how it
/// is, the last cluster order it applied (<paramref name="Sequence"/>) and its last reload, whatever asked for it.
/// </summary>
internal sealed record NodeState(
    string Node,
    string Version,
    string Proxy,
    string Admin,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    int Generation,
    string? PipelineHash,
    string Status,
    NodeCache Cache,
    long Sequence,
    ReloadRecord? LastReload)
{
    public const string Kind = "state";
}

/// <summary>The node's shared cache as its <c>/healthz</c> shows it.</summary>
internal sealed record NodeCache(string Kind, string Status);

/// <summary>How the cluster's messages are written: the admin API's JSON conventions.</summary>
internal static class ClusterJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>The message, or null when its JSON is not one (only a holder of the secret could have signed it).</summary>
    public static T? Read<T>(string json) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

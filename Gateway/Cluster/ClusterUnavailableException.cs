namespace Gateway.Cluster;

/// <summary>Redis did not answer a cluster operation in time, or refused it: the node serves on, alone, until it does.</summary>
internal sealed class ClusterUnavailableException(string message, Exception inner) : Exception(message, inner);

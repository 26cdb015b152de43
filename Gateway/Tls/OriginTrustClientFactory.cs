using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Tls;

/// <summary>YARP's client factory, with a cluster's <see cref="OriginTrust"/> applied to the handler it builds.</summary>
internal sealed class OriginTrustClientFactory(ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    // YARP compares only the HttpClient section; the trust lives in metadata, and new pins must not meet an old client.
    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context) && Same(context.OldMetadata, context.NewMetadata, OriginTrust.CaFileKey) && Same(context.OldMetadata, context.NewMetadata, OriginTrust.PinsKey);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        // The reload validated the values (OriginTrust.Validate) before the cluster could be applied.
        OriginTrust.From(context.NewMetadata)?.ApplyTo(handler.SslOptions);
    }

    private static bool Same(IReadOnlyDictionary<string, string>? old, IReadOnlyDictionary<string, string>? updated, string key) =>
        string.Equals(old?.GetValueOrDefault(key), updated?.GetValueOrDefault(key), StringComparison.Ordinal);
}

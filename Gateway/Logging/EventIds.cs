namespace Gateway;

/// <summary>Every log event id of the gateway, in one place so they stay unique and stable.</summary>
internal static class EventIds
{
    // Hosting 0xx
    public const int GatewayListening = 1;
    public const int GatewayCannotStart = 2;
    public const int GatewayCannotStartDetails = 3;
    public const int TlsCertificateServed = 4;
    public const int TlsCertificateKept = 5;

    // Pipeline 1xx
    public const int PipelineLoaded = 100;
    public const int PipelineRejected = 101;
    public const int PipelineDrainSlow = 102;
    public const int PipelineUnloadStepFailed = 103;
    public const int PipelineRetired = 104;
    public const int ConfigurationRefreshFailed = 105;
    public const int PipelineContextsStillAlive = 106;
    public const int StageFailed = 110;
    public const int RouteOutOfDate = 111;
    public const int DetachedRequestRefused = 112;
    public const int DetachedRequestFailed = 113;
    public const int DetachedRequestFinished = 114;

    // Scripts 3xx
    public const int ScriptMessage = 300;
    public const int ScriptBoundBreached = 302;

    // Cache 4xx
    public const int CacheDegraded = 400;

    // Admin 2xx
    public const int AdminKeyGenerated = 200;
    public const int AdminUnauthorized = 201;

    // Access log 5xx
    public const int AccessLogLine = 500;

    // Cluster 6xx
    public const int ClusterJoined = 600;
    public const int ClusterUnavailable = 601;
    public const int ClusterAvailable = 602;
    public const int ClusterReloadApplying = 603;
    public const int ClusterMessageUnsigned = 604;
    public const int ClusterLoopFailed = 605;
}

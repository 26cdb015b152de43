namespace Gateway.Plugins.Retry;

/// <summary>The plugin's <c>config</c>. Every member is optional.</summary>
public sealed record RetryOptions
{
    /// <summary>The most times a request is sent, the first included: 2 is one retry. Default 2.</summary>
    public int? Attempts { get; init; }

    /// <summary>The methods retried. Default the idempotent ones: GET, HEAD, OPTIONS, PUT, DELETE.</summary>
    public string[]? Methods { get; init; }

    /// <summary>
    /// What is retried: <c>connect</c> (no connection, or it failed before an answer), <c>timeout</c> (no answer in
    /// time), and status codes the upstream answered with. Default <c>["connect", "502", "503", "504", "timeout"]</c>.
    /// </summary>
    public string[]? On { get; init; }

    /// <summary>Retries may be at most this share of requests (plus <see cref="MinRetries"/>), so an outage is not multiplied. Default 20.</summary>
    public double? BudgetPercent { get; init; }

    /// <summary>Retries the budget allows before any request has added to it, and at least. Default 10.</summary>
    public int? MinRetries { get; init; }

    /// <summary>The wait before the first retry, in milliseconds, doubling after each, each one a random share of it. Default 25.</summary>
    public int? BackoffMs { get; init; }

    /// <summary>The largest request body buffered so it can be sent again; a larger one is never retried. Default 65536.</summary>
    public int? MaxBodyBytes { get; init; }
}

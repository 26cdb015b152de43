namespace Gateway.Hosting;

/// <summary>The gateway cannot start; the message says why in one line, naming the culprit.</summary>
public sealed class GatewayStartException(string message) : Exception(message);

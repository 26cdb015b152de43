namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddGateway</c> so that further gateway features chain onto it.</summary>
public interface IGatewayBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }
}

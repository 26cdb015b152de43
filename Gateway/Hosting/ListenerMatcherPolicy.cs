using Gateway.Admin;
using Microsoft.AspNetCore.Routing.Matching;

namespace Gateway.Hosting;

/// <summary>
/// Keeps the admin API and the proxy apart at routing: admin endpoints match only on the admin listener, every
/// other endpoint (YARP's routes) only on the others. So <c>/admin/*</c> on the proxy listener is just a path to
/// proxy, and the admin listener proxies nothing.
/// </summary>
internal sealed class ListenerMatcherPolicy(GatewayListeners listeners) : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => true;

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var onAdminListener = listeners.IsAdminRequest(httpContext);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i))
            {
                continue;
            }
            var isAdminEndpoint = candidates[i].Endpoint.Metadata.GetMetadata<AdminEndpointMetadata>() is not null;
            if (isAdminEndpoint != onAdminListener)
            {
                candidates.SetValidity(i, false);
            }
        }
        return Task.CompletedTask;
    }
}

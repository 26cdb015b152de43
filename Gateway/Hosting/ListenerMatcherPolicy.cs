using Gateway.Admin;
using Microsoft.AspNetCore.Routing.Matching;

namespace Gateway.Hosting;

/// <summary>
/// Keeps the admin API and the proxy apart at routing: admin endpoints match only on the admin listener, every
/// other endpoint (YARP's routes) only on the others. So <c>/admin/*</c> on the proxy listener is just a path to
/// proxy, and the admin listener proxies nothing.
/// </summary>
/// <remarks>
/// A node-builder policy, as ASP.NET Core's own HTTP method policy is: the split is built into the matcher's state
/// machine when endpoints change, and a request costs one jump-table lookup, not the per-request candidate pass of
/// an endpoint-selector policy.
/// </remarks>
internal sealed class ListenerMatcherPolicy : MatcherPolicy, INodeBuilderPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => endpoints.Count > 0;

    public IReadOnlyList<PolicyNodeEdge> GetEdges(IReadOnlyList<Endpoint> endpoints)
    {
        var admin = new List<Endpoint>();
        var proxy = new List<Endpoint>();
        foreach (var endpoint in endpoints)
        {
            (endpoint.Metadata.GetMetadata<AdminEndpointMetadata>() is not null ? admin : proxy).Add(endpoint);
        }
        // The edge's state says which listener its endpoints answer on: true for the admin listener.
        var edges = new List<PolicyNodeEdge>(2);
        if (admin.Count > 0)
        {
            edges.Add(new PolicyNodeEdge(true, admin));
        }
        if (proxy.Count > 0)
        {
            edges.Add(new PolicyNodeEdge(false, proxy));
        }
        return edges;
    }

    public PolicyJumpTable BuildJumpTable(int exitDestination, IReadOnlyList<PolicyJumpTableEdge> edges)
    {
        // A listener with no edge here falls through to the exit: no endpoint, a 404.
        var admin = exitDestination;
        var proxy = exitDestination;
        foreach (var edge in edges)
        {
            if ((bool)edge.State)
            {
                admin = edge.Destination;
            }
            else
            {
                proxy = edge.Destination;
            }
        }
        return new ListenerJumpTable(admin, proxy);
    }

    private sealed class ListenerJumpTable(int admin, int proxy) : PolicyJumpTable
    {
        public override int GetDestination(HttpContext httpContext) => GatewayListeners.IsAdminRequest(httpContext) ? admin : proxy;
    }
}

using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

/// <summary>
/// A YARP route's <c>AuthorizationPolicy</c> is enforced by ASP.NET Core's authorization middleware, which the gateway
/// runs only for the endpoints that ask for it; a route without one is served without it.
/// </summary>
public sealed class EndpointAuthorizationTests
{
    [Fact]
    public async Task ARouteWithAnAuthorizationPolicy_IsAuthorized_AndOneWithout_IsNot()
    {
        await using var origin = await TestOrigin.StartAsync("d1");
        await using var gateway = await TestGateway.Create()
            .Route("guarded", "/guarded/{**rest}", "backend", route => route["AuthorizationPolicy"] = "default")
            .Route("open", "/open/{**rest}", "backend")
            .Cluster("backend", origin)
            .Services(services => services.AddAuthentication(HeaderUser.Name).AddScheme<AuthenticationSchemeOptions, HeaderUser>(HeaderUser.Name, null))
            .StartAsync();

        using var refused = await gateway.Proxy.GetAsync("guarded/x");
        using var admitted = await SendAsUser(gateway.Proxy, "guarded/x");
        using var open = await gateway.Proxy.GetAsync("open/x");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.Equal(2, origin.Requests);
    }

    private static Task<HttpResponseMessage> SendAsUser(HttpClient client, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-user", "ada");
        return client.SendAsync(request);
    }

    /// <summary>A user named by the request's x-user header; none without it.</summary>
    private sealed class HeaderUser(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "header-user";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers["x-user"] is [{ Length: > 0 } name]
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], Name)), Name))
                : AuthenticateResult.NoResult());
    }
}

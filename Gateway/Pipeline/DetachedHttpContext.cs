using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Pipeline;

/// <summary>
/// The <see cref="HttpContext"/> of a detached copy of a request: the original's method, URL, headers and connection
/// addresses, no body, and a response that goes nowhere. Kestrel runs a response's callbacks after sending it; nothing
/// sends this one, so <see cref="CompleteAsync"/> runs them once the upstream's answer has been read.
/// </summary>
internal static class DetachedHttpContext
{
    public static HttpContext CopyOf(HttpContext original, IServiceProvider services, CancellationToken aborted)
    {
        var request = original.Request;
        var headers = new HeaderDictionary(request.Headers.Count);
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }
        var connection = original.Connection;
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Protocol = request.Protocol,
            Scheme = request.Scheme,
            Method = request.Method,
            PathBase = request.PathBase.Value ?? "",
            Path = request.Path.Value ?? "",
            QueryString = request.QueryString.Value ?? "",
            RawTarget = original.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "",
            Headers = headers,
            Body = Stream.Null,
        });
        features.Set<IHttpRequestBodyDetectionFeature>(NoBody.Instance);
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = connection.Id,
            LocalIpAddress = connection.LocalIpAddress,
            LocalPort = connection.LocalPort,
            RemoteIpAddress = connection.RemoteIpAddress,
            RemotePort = connection.RemotePort,
        });
        features.Set<IHttpResponseFeature>(new DetachedResponse());
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = aborted });
        features.Set<IServiceProvidersFeature>(new ServiceProvidersFeature { RequestServices = services });
        features.Set<IHttpRequestIdentifierFeature>(new HttpRequestIdentifierFeature());
        var copy = new DefaultHttpContext(features);
        copy.SetEndpoint(original.GetEndpoint());
        return copy;
    }

    /// <summary>Runs the response's <c>OnStarting</c> callbacks, then its <c>OnCompleted</c> ones, as a server would.</summary>
    public static Task CompleteAsync(HttpContext copy) => ((DetachedResponse)copy.Features.Get<IHttpResponseFeature>()!).CompleteAsync();

    private sealed class NoBody : IHttpRequestBodyDetectionFeature
    {
        public static readonly NoBody Instance = new();

        public bool CanHaveBody => false;
    }

    private sealed class DetachedResponse : IHttpResponseFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _starting = [];
        private readonly List<(Func<object, Task> Callback, object State)> _completed = [];

        public int StatusCode { get; set; } = StatusCodes.Status200OK;

        public string? ReasonPhrase { get; set; }

        public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();

        [Obsolete("Use IHttpResponseBodyFeature.Stream.")]
        public Stream Body { get; set; } = Stream.Null;

        public bool HasStarted { get; private set; }

        public void OnStarting(Func<object, Task> callback, object state) => _starting.Add((callback, state));

        public void OnCompleted(Func<object, Task> callback, object state) => _completed.Add((callback, state));

        public async Task CompleteAsync()
        {
            // In reverse order of registration, as Kestrel runs them.
            for (var i = _starting.Count - 1; i >= 0; i--)
            {
                await _starting[i].Callback(_starting[i].State).ConfigureAwait(false);
            }
            HasStarted = true;
            for (var i = _completed.Count - 1; i >= 0; i--)
            {
                await _completed[i].Callback(_completed[i].State).ConfigureAwait(false);
            }
        }
    }
}

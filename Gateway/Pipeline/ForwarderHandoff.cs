using System.Diagnostics;
using Gateway.Plugins;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Pipeline;

/// <summary>
/// A request's hand-off to YARP's forwarder, which writes the upstream's status and headers and streams its body in
/// one call: this is what lets stages change the upstream's response headers after <c>next</c> returns.
/// </summary>
/// <remarks>
/// A chain of filters (<see cref="StageChain.IsFilterOnly"/>) needs no hold: the runner runs their request steps and
/// starts the forwarding (<see cref="ForwardPastFilters"/>), and YARP's response transform
/// (<see cref="TransformResponseAsync"/>) runs their response steps in place (<see cref="RunPendingResponseSteps"/>).
/// Otherwise the chain's <see cref="Terminal"/> starts the forwarding and completes when the upstream's status and
/// headers have been copied to the response, inside that transform, which then waits until the stages have unwound
/// (<see cref="ReleaseResponse"/>) before YARP streams the body.
/// </remarks>
internal sealed class ForwarderHandoff
{
    /// <summary>The end of every chain: forward, and come back when the upstream's headers are in.</summary>
    public static readonly PluginDelegate Terminal = static context => ((ProxyRequestContext)context).ForwardAsync();

    private readonly ProxyRequestContext _request;
    private readonly RequestSignal _headersReady = new();
    private readonly RequestSignal _released = new();
    private readonly RequestSignal _forwardingDone = new();
    private readonly Action _onForwardingCompleted;
    private RequestDelegate _forward = null!;
    private StageChain? _filters;
    private bool _holdsResponse;
    private bool _needsThreadPool;
    private int _filtersPassed;
    private volatile bool _started;
    private bool _discarding;
    private long _forwardingStart;

    public ForwarderHandoff(ProxyRequestContext request)
    {
        _request = request;
        _onForwardingCompleted = OnForwardingCompleted;
    }

    /// <summary>Whether what the forwarder resumes must run on the thread pool (see <see cref="Bind"/>).</summary>
    public bool NeedsThreadPool => _needsThreadPool;

    /// <summary>YARP's forwarding, once it has started.</summary>
    public Task? Forwarding { get; private set; }

    /// <param name="forward">The rest of YARP's proxy pipeline: affinity, load balancing, the forwarder.</param>
    /// <param name="holdsResponse">Whether the stages run as middleware, whose terminal holds the response with the signals.</param>
    /// <param name="needsThreadPool">
    /// Whether what the forwarder resumes (the stages after <c>next</c>, the response steps) must run on the thread pool:
    /// with inline I/O the forwarder's own continuations run on a socket thread.
    /// </param>
    public void Bind(RequestDelegate forward, bool holdsResponse, bool needsThreadPool)
    {
        _forward = forward;
        _holdsResponse = holdsResponse;
        _needsThreadPool = needsThreadPool;
    }

    public void Reset()
    {
        _forward = null!;
        _filters = null;
        _filtersPassed = 0;
        if (_holdsResponse)
        {
            // Only the held path uses the signals (a route of filters leaves their cache lines alone); a reset also
            // drops the continuation each holds, which could root a plugin's load context.
            _headersReady.Reset();
            _released.Reset();
            _forwardingDone.Reset();
        }
        Forwarding = null;
        _started = false;
        _discarding = false;
    }

    /// <summary>Starts YARP's forwarding; completes when the upstream's status and headers are in (or it failed).</summary>
    public ValueTask ForwardAsync()
    {
        if (_started)
        {
            throw new InvalidOperationException("A pipeline stage called next more than once.");
        }
        // Set before YARP starts: its response transform may run on another thread before Forwarding is assigned.
        _started = true;
        _forwardingStart = _request.IsTimed ? Stopwatch.GetTimestamp() : 0;
        var forwarding = _forward(_request.HttpContext);
        Forwarding = forwarding;
        if (forwarding.IsCompleted)
        {
            OnForwardingCompleted();
        }
        else
        {
            // A cached delegate and signals instead of async wrappers: the held path allocates no state machines.
            forwarding.GetAwaiter().UnsafeOnCompleted(_onForwardingCompleted);
        }
        // Continuations run inline: the stages unwind on the forwarder's thread, and by the time the transform
        // waits for them they are usually done, so the common case costs no thread hop.
        return _headersReady.WaitAsync();
    }

    private void SignalHeadersReady()
    {
        // The transform signals first when a response came; forwarding's completion is the fallback. They never overlap.
        if (_headersReady.IsSet)
        {
            return;
        }
        if (_request.IsTimed)
        {
            _request.InnerTicks = Stopwatch.GetTimestamp() - _forwardingStart;
        }
        _headersReady.Set();
    }

    private void OnForwardingCompleted()
    {
        if (_needsThreadPool)
        {
            // The signals resume stage code: a stage waiting for the headers, or one discarding the answer.
            ThreadPoolHop.Run(static handoff => handoff.SignalForwardingDone(), this);
        }
        else
        {
            SignalForwardingDone();
        }
    }

    private void SignalForwardingDone()
    {
        // No response transform ran (an error status, no destination): the stages see what YARP set.
        SignalHeadersReady();
        _forwardingDone.Set();
    }

    /// <summary>
    /// Starts YARP's forwarding once every filter of <paramref name="filters"/> let the request pass; the response
    /// transform then runs their response steps.
    /// </summary>
    public Task ForwardPastFilters(StageChain filters)
    {
        PassedFilters(filters, filters.Stages.Length);
        _started = true;
        return Forwarding = _forward(_request.HttpContext);
    }

    /// <summary>Records that the request steps of the first <paramref name="passed"/> filters let the request pass.</summary>
    public void PassedFilters(StageChain filters, int passed)
    {
        _filters = filters;
        _filtersPassed = passed;
    }

    /// <summary>Whether response steps are left to <see cref="RunPendingResponseSteps"/>: no response transform ran them.</summary>
    public bool HasPendingResponseSteps => _filtersPassed > 0;

    /// <summary>
    /// Runs, innermost first, the response steps of the filters that let the request pass, unless they have run (the
    /// response transform runs them when the upstream answers). A step that throws stops the rest, as an exception
    /// unwinding through middleware would; its fault is left in the request's <see cref="ProxyRequestContext.Fault"/>.
    /// </summary>
    public void RunPendingResponseSteps()
    {
        var stages = _filters!.Stages;
        var passed = _filtersPassed;
        _filtersPassed = 0;
        try
        {
            for (var i = passed - 1; i >= 0; i--)
            {
                stages[i].OnResponse(_request);
            }
        }
        catch (Exception ex)
        {
            _request.Fault ??= new StageFault(null, ex);
        }
    }

    /// <summary>Completes when YARP's forwarding has, body included; then <see cref="Forwarding"/> holds its outcome.</summary>
    public ValueTask WaitForForwardingAsync() => _forwardingDone.WaitAsync();

    /// <summary>Lets YARP stream the body: the stages are done with the headers.</summary>
    public void ReleaseResponse() => _released.Set();

    /// <summary>
    /// YARP's response transform for every route: runs a filter chain's response steps, or holds the response for
    /// middleware stages; a no-op for requests the pipeline does not run.
    /// </summary>
    public static ValueTask TransformResponseAsync(ResponseTransformContext transform)
    {
        if (!ProxyRequestContext.TryGet(transform.HttpContext, out var request) || !request.Handoff._started)
        {
            return default;
        }
        var handoff = request.Handoff;
        if (handoff._needsThreadPool && ThreadPoolHop.IsNeeded)
        {
            return handoff.TransformResponseOnPoolAsync(transform);
        }
        return handoff.TransformResponse(transform);
    }

    private ValueTask TransformResponse(ResponseTransformContext transform)
    {
        if (_filters is null)
        {
            return HoldResponseAsync(transform);
        }
        RunPendingResponseSteps();
        SuppressReplacedBody(transform);
        return default;
    }

    private async ValueTask TransformResponseOnPoolAsync(ResponseTransformContext transform)
    {
        await ThreadPoolHop.ToPool();
        await TransformResponse(transform).ConfigureAwait(false);
    }

    private ValueTask HoldResponseAsync(ResponseTransformContext transform)
    {
        SignalHeadersReady();
        if (_released.IsSet)
        {
            SuppressReplacedBody(transform);
            return default;
        }
        return WaitForReleaseAsync(transform);
    }

    private async ValueTask WaitForReleaseAsync(ResponseTransformContext transform)
    {
        await _released.WaitAsync().ConfigureAwait(false);
        SuppressReplacedBody(transform);
    }

    /// <summary>
    /// Drops the forwarding's outcome so the stages may forward again: a held upstream response is let go without its
    /// body, and once YARP is done the response is as it was before (status 200, no headers, no forwarder error).
    /// </summary>
    /// <returns>False when nothing was forwarded, the response is not held (a route of filters), or it has started.</returns>
    public async ValueTask<bool> TryDiscardAsync()
    {
        var response = _request.HttpContext.Response;
        if (!_holdsResponse || !_started || Forwarding is not { } forwarding || response.HasStarted)
        {
            return false;
        }
        if (!_forwardingDone.IsSet)
        {
            _discarding = true;
            _released.Set();
            await _forwardingDone.WaitAsync().ConfigureAwait(false);
        }
        await forwarding.ConfigureAwait(false);
        if (response.HasStarted)
        {
            return false;
        }
        response.Clear();
        _request.HttpContext.Features.Set<IForwarderErrorFeature>(null);
        _headersReady.Reset();
        _released.Reset();
        _forwardingDone.Reset();
        Forwarding = null;
        _discarding = false;
        _started = false;
        return true;
    }

    // A stage failed after next, answered in the upstream's place, or is discarding the answer to try again: the
    // upstream's body must not follow.
    private void SuppressReplacedBody(ResponseTransformContext transform) =>
        transform.SuppressResponseBody |= _request.Fault is not null || _request.DeferredBody is not null || _discarding;
}

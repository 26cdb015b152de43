using System.Diagnostics;
using Gateway.Plugins;

namespace Gateway.Pipeline;

/// <summary>
/// A live entry of a pipeline snapshot: the plugin instance, what it was loaded from, and its counters.
/// Invoking it counts the call and, on sampled requests, times the plugin's own work (its time minus the time spent
/// in <c>next</c>, or for a filter the time of its two steps).
/// </summary>
internal sealed class PipelineStage
{
    private IGatewayPlugin? _plugin;
    // A filter's steps bound once: a delegate calls the plugin's own method, where a call through the interface from
    // this one site, shared by every plugin type, would go through the runtime's megamorphic dispatch stub each time.
    private Func<PluginContext, ValueTask<bool>>? _onRequest;
    private Action<PluginContext>? _onResponse;
    // Span names and tags made once: a traced request allocates the spans, not their names.
    private readonly string _spanName;
    private readonly string _requestSpanName;
    private readonly string _responseSpanName;
    private readonly object _boxedIndex;

    /// <param name="version">The plugin assembly's version; null for a script.</param>
    /// <param name="hash">The <c>sha256:</c> of the plugin's assemblies or of the script.</param>
    public PipelineStage(PipelineEntry entry, IGatewayPlugin plugin, string? version, string hash)
    {
        Entry = entry;
        _plugin = plugin;
        Version = version;
        Hash = hash;
        Sandbox = plugin as ISandboxedPlugin;
        Cache = plugin as IResponseCache;
        OwnCounters = plugin as IReportsCounters;
        // A plugin runs where the request is only if it says it never blocks; a script (someone's code, run up to its
        // time bound) never says so.
        NeedsThreadPool = !plugin.GetType().IsDefined(typeof(NonBlockingAttribute), inherit: false);
        _spanName = $"{(entry.Kind == StageKind.Plugin ? "plugin" : "script")} {entry.Name}";
        _requestSpanName = _spanName + " (request)";
        _responseSpanName = _spanName + " (response)";
        _boxedIndex = entry.Index;
        if (plugin is IGatewayFilter filter)
        {
            IsFilter = true;
            _onRequest = filter.OnRequestAsync;
            _onResponse = filter.OnResponse;
        }
    }

    public PipelineEntry Entry { get; }

    /// <summary>The plugin assembly's version; null for a script.</summary>
    public string? Version { get; }

    /// <summary>What was loaded, as <c>sha256:</c> of the plugin's assemblies or of the script file.</summary>
    public string Hash { get; }

    public StageCounters Counters { get; } = new();

    /// <summary>The plugin's sandbox statistics when it runs untrusted code (a script); null for a C# plugin.</summary>
    public ISandboxedPlugin? Sandbox { get; }

    /// <summary>The plugin's own counters, which the admin API shows; null for a plugin without any.</summary>
    public IReportsCounters? OwnCounters { get; }

    /// <summary>The plugin as a response cache the admin API can purge; null for other plugins.</summary>
    public IResponseCache? Cache { get; }

    /// <summary>
    /// Whether the plugin's steps must start on the thread pool (<see cref="ThreadPoolHop"/>): a script, or a plugin not
    /// marked <see cref="NonBlockingAttribute"/>.
    /// </summary>
    public bool NeedsThreadPool { get; }

    /// <summary>Whether the plugin is an <see cref="IGatewayFilter"/>, which a chain of filters calls step by step.</summary>
    public bool IsFilter { get; }

    /// <summary>Whether the plugin has asynchronous start-up work (<see cref="IAsyncInitializable"/>).</summary>
    public bool NeedsInitialization => _plugin is IAsyncInitializable;

    /// <summary>Runs the plugin's start-up work, once, before its snapshot serves.</summary>
    public ValueTask InitializeAsync(CancellationToken cancellationToken) =>
        _plugin is IAsyncInitializable plugin ? plugin.InitializeAsync(cancellationToken) : default;

    public bool AppliesTo(string routeId) =>
        Entry.AllRoutes || Entry.Routes.Contains(routeId, StringComparer.OrdinalIgnoreCase);

    /// <summary>Binds this stage in front of <paramref name="next"/>, once, when the snapshot is built.</summary>
    public PluginDelegate Bind(PluginDelegate next) => NeedsThreadPool
        ? context => ThreadPoolHop.IsNeeded ? InvokeOnPoolAsync((ProxyRequestContext)context, next) : InvokeAsync((ProxyRequestContext)context, next)
        : context => InvokeAsync((ProxyRequestContext)context, next);

    private async ValueTask InvokeOnPoolAsync(ProxyRequestContext context, PluginDelegate next)
    {
        await ThreadPoolHop.ToPool();
        await InvokeAsync(context, next).ConfigureAwait(false);
    }

    private ValueTask InvokeAsync(ProxyRequestContext context, PluginDelegate next)
    {
        var plugin = _plugin ?? throw new ObjectDisposedException(Entry.DisplayName);
        var start = 0L;
        if (context.IsTimed)
        {
            context.InnerTicks = 0;
            start = Stopwatch.GetTimestamp();
        }
        // A middleware's span holds the stages after it and the upstream call, as its own call does.
        var span = PipelineActivities.Start(_spanName, _boxedIndex, Entry.Name);
        ValueTask pending;
        try
        {
            pending = plugin.InvokeAsync(context, next);
        }
        catch (Exception ex)
        {
            Complete(context, start, ex, span);
            throw;
        }
        finally
        {
            if (span is not null)
            {
                PipelineActivities.Leave(span);
            }
        }

        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            Complete(context, start, exception: null, span);
            return default;
        }
        // Apart, so that an untraced request's state machine carries no span field.
        return span is null ? AwaitAsync(pending, context, start) : AwaitTracedAsync(pending, context, start, span);
    }

    private async ValueTask AwaitAsync(ValueTask pending, ProxyRequestContext context, long start)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Complete(context, start, ex, span: null);
            throw;
        }
        Complete(context, start, exception: null, span: null);
    }

    private async ValueTask AwaitTracedAsync(ValueTask pending, ProxyRequestContext context, long start, Activity span)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Complete(context, start, ex, span);
            throw;
        }
        Complete(context, start, exception: null, span);
    }

    /// <summary>Runs the filter's request step; counts the call, and on a sampled request times the step.</summary>
    public ValueTask<bool> OnRequestAsync(ProxyRequestContext context)
    {
        var onRequest = _onRequest ?? throw new ObjectDisposedException(Entry.DisplayName);
        var start = context.IsTimed ? Stopwatch.GetTimestamp() : 0;
        var span = PipelineActivities.Start(_requestSpanName, _boxedIndex, Entry.Name);
        ValueTask<bool> pending;
        try
        {
            pending = onRequest(context);
        }
        catch (Exception ex)
        {
            CompleteRequestStep(context, start, ex, span);
            throw;
        }
        finally
        {
            if (span is not null)
            {
                PipelineActivities.Leave(span);
            }
        }
        if (pending.IsCompletedSuccessfully)
        {
            CompleteRequestStep(context, start, exception: null, span);
            return pending;
        }
        return span is null ? AwaitRequestStepAsync(pending, context, start) : AwaitTracedRequestStepAsync(pending, context, start, span);
    }

    private async ValueTask<bool> AwaitRequestStepAsync(ValueTask<bool> pending, ProxyRequestContext context, long start)
    {
        bool proceed;
        try
        {
            proceed = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            CompleteRequestStep(context, start, ex, span: null);
            throw;
        }
        CompleteRequestStep(context, start, exception: null, span: null);
        return proceed;
    }

    private async ValueTask<bool> AwaitTracedRequestStepAsync(ValueTask<bool> pending, ProxyRequestContext context, long start, Activity span)
    {
        bool proceed;
        try
        {
            proceed = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            CompleteRequestStep(context, start, ex, span);
            throw;
        }
        CompleteRequestStep(context, start, exception: null, span);
        return proceed;
    }

    private void CompleteRequestStep(ProxyRequestContext context, long start, Exception? exception, Activity? span)
    {
        if (exception is not null)
        {
            context.Fault ??= new StageFault(this, exception);
        }
        Counters.Record(failed: exception is not null);
        if (context.IsTimed)
        {
            Counters.RecordTime(Stopwatch.GetTimestamp() - start);
        }
        if (span is not null)
        {
            PipelineActivities.Stop(span, exception);
        }
    }

    /// <summary>Runs the filter's response step; an exception is recorded as this stage's and rethrown.</summary>
    public void OnResponse(ProxyRequestContext context)
    {
        var onResponse = _onResponse ?? throw new ObjectDisposedException(Entry.DisplayName);
        var start = context.IsTimed ? Stopwatch.GetTimestamp() : 0;
        var span = PipelineActivities.Start(_responseSpanName, _boxedIndex, Entry.Name);
        try
        {
            onResponse(context);
        }
        catch (Exception ex)
        {
            context.Fault ??= new StageFault(this, ex);
            Counters.RecordError();
            if (span is not null)
            {
                PipelineActivities.Leave(span);
                PipelineActivities.Stop(span, ex);
            }
            throw;
        }
        if (context.IsTimed)
        {
            Counters.AddTime(Stopwatch.GetTimestamp() - start);
        }
        if (span is not null)
        {
            PipelineActivities.Leave(span);
            PipelineActivities.Stop(span, exception: null);
        }
    }

    private void Complete(ProxyRequestContext context, long start, Exception? exception, Activity? span)
    {
        // The error counts against the stage it started in, not every stage it passes through on the way out.
        var origin = exception is not null && context.Fault is null;
        if (origin)
        {
            context.Fault = new StageFault(this, exception!);
        }
        Counters.Record(failed: origin);
        if (context.IsTimed)
        {
            var elapsed = Stopwatch.GetTimestamp() - start;
            Counters.RecordTime(elapsed - context.InnerTicks);
            context.InnerTicks = elapsed;
        }
        if (span is not null)
        {
            // A failure passing through on its way out is the stage's own error only where it started.
            PipelineActivities.Stop(span, origin ? exception : null);
        }
    }

    /// <summary>Disposes the plugin instance after its last request, and drops it so its context can unload.</summary>
    public async ValueTask DisposePluginAsync()
    {
        _onRequest = null;
        _onResponse = null;
        switch (Interlocked.Exchange(ref _plugin, null))
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}

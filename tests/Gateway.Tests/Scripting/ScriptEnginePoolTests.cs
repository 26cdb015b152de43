using Gateway.Scripting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Scripting;

/// <summary>
/// How many engines a script makes when more calls run at once than it has warmed: the calls here hold their engine
/// inside <c>ctx.log</c> until all of a burst have one, so each burst needs exactly as many engines as it has calls.
/// </summary>
public sealed class ScriptEnginePoolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-pool-").FullName;

    [Fact]
    public void EnginesMadeForABurst_AreKeptForTheNext()
    {
        using var plugin = Load(enginesPerScript: 1, maxEnginesPerScript: 4, out var logger);
        Assert.Equal(1, plugin.EnginesCreated);

        RunBurst(plugin, logger, calls: 4);
        Assert.Equal(4, plugin.EnginesCreated);

        RunBurst(plugin, logger, calls: 4);
        RunBurst(plugin, logger, calls: 3);
        Assert.Equal(4, plugin.EnginesCreated);
    }

    [Fact]
    public void BeyondItsBound_APoolMakesEnginesForTheBurstAndKeepsOnlyTheBound()
    {
        using var plugin = Load(enginesPerScript: 1, maxEnginesPerScript: 2, out var logger);

        RunBurst(plugin, logger, calls: 3);
        Assert.Equal(3, plugin.EnginesCreated);

        // Two were kept; the third call of the next burst needs a new one.
        RunBurst(plugin, logger, calls: 3);
        Assert.Equal(4, plugin.EnginesCreated);
    }

    private ScriptPlugin Load(int enginesPerScript, int maxEnginesPerScript, out BurstLogger logger)
    {
        var path = Path.Combine(_directory, "hold.js");
        File.WriteAllText(path, "function onRequest(ctx) { ctx.log('holding an engine'); }");
        var options = new ScriptOptions
        {
            EnginesPerScript = enginesPerScript,
            MaxEnginesPerScript = maxEnginesPerScript,
            // The calls wait for each other inside the hook; the time bound is not what this tests.
            Timeout = TimeSpan.FromSeconds(30),
        };
        logger = new BurstLogger();
        return ScriptPlugin.Load(CompiledScript.Compile("scripts/hold.js", path), default, options, logger, TimeProvider.System);
    }

    // Each call on its own thread, all inside their hook at the same instant.
    private static void RunBurst(ScriptPlugin plugin, BurstLogger logger, int calls)
    {
        logger.Expect(calls);
        // What each call ended with; an exception escaping a thread of its own would take the test host down.
        var outcomes = new object?[calls];
        var threads = Enumerable.Range(0, calls)
            .Select(i => new Thread(() =>
            {
                try
                {
                    outcomes[i] = plugin.OnRequestAsync(new WarmUpContext()).AsTask().GetAwaiter().GetResult();
                }
                catch (Exception ex)
                {
                    outcomes[i] = ex;
                }
            }))
            .ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => Assert.True(thread.Join(TimeSpan.FromSeconds(30))));
        Assert.True(logger.AllMet, $"the {calls} calls of a burst did not all hold an engine at once");
        Assert.All(outcomes, outcome => Assert.Equal(true, outcome));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Holds each script log line until the whole burst has logged.</summary>
    private sealed class BurstLogger : ILogger
    {
        private Barrier _barrier = new(1);
        private volatile bool _timedOut;

        public bool AllMet => !_timedOut;

        public void Expect(int calls)
        {
            _barrier.Dispose();
            _barrier = new Barrier(calls);
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!_barrier.SignalAndWait(TimeSpan.FromSeconds(20)))
            {
                _timedOut = true;
            }
        }
    }
}

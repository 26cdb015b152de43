using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real gateway in a process of its own (<c>dotnet Gateway.dll</c>, the build beside the tests), for what must be
/// proven of the process itself: that it survives, how much memory it took, what it prints and how it exits.
/// Disposing kills it and deletes its folder.
/// </summary>
internal sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private readonly OutputSignals _signals;

    private GatewayProcess(Process process, ConcurrentQueue<string> output, OutputSignals signals, string directory, string proxyUrl, string adminUrl)
    {
        _process = process;
        _output = output;
        _signals = signals;
        Directory = directory;
        Proxy = new HttpClient { BaseAddress = new Uri(proxyUrl + "/") };
        Admin = new HttpClient { BaseAddress = new Uri(adminUrl + "/") };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.AdminKey);
    }

    public string Directory { get; }

    public HttpClient Proxy { get; }

    public HttpClient Admin { get; }

    /// <summary>What it has written to standard output and standard error so far.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    public bool HasExited => _process.HasExited;

    /// <summary>Completes once <paramref name="count"/> lines of its output contain <paramref name="text"/>: a signal, not a sleep.</summary>
    public Task OutputAsync(string text, int count = 1) =>
        _signals.WaitAsync(() => _output.Count(line => line.Contains(text, StringComparison.Ordinal)) >= count);

    /// <summary>The most physical memory the process has held at once (VmHWM), in bytes.</summary>
    public long PeakMemoryBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").First(line => line.StartsWith("VmHWM:", StringComparison.Ordinal));
            return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]) * 1024;
        }
    }

    public static async Task<GatewayProcess> StartAsync(string directory, IEnumerable<string> extraArgs)
    {
        // Completes with the line saying where it listens, or with null once it has exited without one.
        var listening = new TaskCompletionSource<Match?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var signals = new OutputSignals();
        var (process, output) = Launch(directory, extraArgs, line =>
        {
            if (Listening().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(match);
            }
            signals.Check();
        });
        process.Exited += (_, _) => listening.TrySetResult(null);
        process.EnableRaisingEvents = true;
        if (process.HasExited)
        {
            listening.TrySetResult(null);
        }
        try
        {
            if (await listening.Task.WaitAsync(TimeSpan.FromSeconds(60)) is { } match)
            {
                return new GatewayProcess(process, output, signals, directory, match.Groups[1].Value, match.Groups[2].Value);
            }
        }
        catch (TimeoutException)
        {
        }
        Stop(process);
        throw new InvalidOperationException($"the gateway process did not start listening:{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
    }

    /// <summary>Runs a gateway that is expected to stop by itself (a start that fails), and returns how it ended.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string directory, IEnumerable<string> extraArgs)
    {
        var (process, output) = Launch(directory, extraArgs, _ => { });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Stop(process);
            throw new InvalidOperationException($"the gateway process did not exit:{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
        }
        process.WaitForExit(); // drains the output readers
        var exitCode = process.ExitCode;
        process.Dispose();
        return (exitCode, string.Join(Environment.NewLine, output));
    }

    private static (Process Process, ConcurrentQueue<string> Output) Launch(string directory, IEnumerable<string> extraArgs, Action<string> onLine)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])
            [
                "exec", Path.Combine(AppContext.BaseDirectory, "Gateway.dll"),
                "--Kestrel:Endpoints:Proxy:Url=http://127.0.0.1:0",
                "--Kestrel:Endpoints:Admin:Url=http://127.0.0.1:0",
                $"--Gateway:Admin:ApiKey={TestGateway.AdminKey}",
                .. extraArgs,
            ])
        {
            start.ArgumentList.Add(arg);
        }
        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Keep(output, line.Data, onLine);
        process.ErrorDataReceived += (_, line) => Keep(output, line.Data, onLine);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    private static void Keep(ConcurrentQueue<string> output, string? line, Action<string> onLine)
    {
        if (line is not null)
        {
            output.Enqueue(line);
            onLine(line);
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }

    /// <summary>Ends the process at once (SIGKILL), as a crash or a lost machine would: nothing of its own stop runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        Stop(_process);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a test for.
        }
        return default;
    }

    /// <summary>Waiters on the output, checked again at each line.</summary>
    private sealed class OutputSignals
    {
        private readonly List<(Func<bool> Done, TaskCompletionSource Seen)> _waiters = [];

        public Task WaitAsync(Func<bool> done)
        {
            lock (_waiters)
            {
                if (done())
                {
                    return Task.CompletedTask;
                }
                var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((done, seen));
                return seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }

        public void Check()
        {
            lock (_waiters)
            {
                _waiters.RemoveAll(waiter => waiter.Done() && waiter.Seen.TrySetResult());
            }
        }
    }

    [GeneratedRegex(@"Proxy listening on (\S+); admin API on (\S+)")]
    private static partial Regex Listening();
}

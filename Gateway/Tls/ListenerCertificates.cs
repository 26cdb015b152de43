using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gateway.Tls;

/// <summary>
/// Puts the gateway's TLS on each HTTPS listener and reads a certificate again when its files change: a renewal
/// (certbot, cert-manager, a copy) is served from the next handshake on, with no restart, no rebind and no connection
/// closed. Files that cannot be used (half written, a key that does not match) keep the previous certificate serving.
/// </summary>
internal sealed partial class ListenerCertificates(IHostEnvironment environment, TimeProvider time, ILogger<ListenerCertificates> logger) : IDisposable
{
    /// <summary>How long the files must stay unchanged before they are read: a renewal writes several in a row.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(250);

    private readonly List<HandshakeOptions> _reloadable = [];
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private ITimer? _settle;

    /// <summary>Answers the endpoint's handshakes, in place of Kestrel's loader.</summary>
    /// <exception cref="InvalidOperationException">Its TLS settings or certificates cannot be used; the message names the setting.</exception>
    public void Use(string endpointName, EndpointConfiguration endpoint)
    {
        var tls = ListenerTls.Create(endpointName, endpoint, environment.ContentRootPath);
        endpoint.ListenOptions.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = ListenerTls.OnConnectionAsync,
            OnConnectionState = tls,
            HandshakeTimeout = endpoint.HttpsOptions.HandshakeTimeout,
        });
        lock (_gate)
        {
            foreach (var options in tls.All)
            {
                Log.Serving(logger, options.Name, options.Certificate.Subject, options.Certificate.Thumbprint, options.Certificate.NotAfter.ToUniversalTime());
                if (options.Files is { } files)
                {
                    _reloadable.Add(options);
                    foreach (var folder in files.Folders)
                    {
                        Watch(folder);
                    }
                }
            }
        }
    }

    private void Watch(string folder)
    {
        if (_watchers.ContainsKey(folder))
        {
            return;
        }
        var watcher = new FileSystemWatcher(folder)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.CreationTime | NotifyFilters.Size,
        };
        // Any change in the folder: a secret mount swaps a link named ..data, not the file the configuration names.
        watcher.Changed += (_, _) => Changed();
        watcher.Created += (_, _) => Changed();
        watcher.Deleted += (_, _) => Changed();
        watcher.Renamed += (_, _) => Changed();
        watcher.EnableRaisingEvents = true;
        _watchers.Add(folder, watcher);
    }

    private void Changed()
    {
        lock (_gate)
        {
            _settle ??= time.CreateTimer(static state => ((ListenerCertificates)state!).Reload(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _settle.Change(Settle, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Reads every file-backed certificate again; one that changed is served from the next handshake.</summary>
    internal void Reload()
    {
        lock (_gate)
        {
            foreach (var options in _reloadable)
            {
                try
                {
                    if (options.Replace(options.Files!.Load()))
                    {
                        Log.Serving(logger, options.Name, options.Certificate.Subject, options.Certificate.Thumbprint, options.Certificate.NotAfter.ToUniversalTime());
                    }
                }
                catch (InvalidOperationException ex)
                {
                    Log.KeptPrevious(logger, options.Name, ex.Message);
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _settle?.Dispose();
            foreach (var watcher in _watchers.Values)
            {
                watcher.Dispose();
            }
            _watchers.Clear();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.TlsCertificateServed, LogLevel.Information, "Listener {Listener} presents {Subject} (thumbprint {Thumbprint}, valid until {NotAfter:u}).")]
        public static partial void Serving(ILogger logger, string listener, string subject, string thumbprint, DateTime notAfter);

        [LoggerMessage(EventIds.TlsCertificateKept, LogLevel.Warning, "Listener {Listener} keeps its certificate: the changed files cannot be used ({Reason}).")]
        public static partial void KeptPrevious(ILogger logger, string listener, string reason);
    }
}

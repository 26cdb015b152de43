using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>Ports on 127.0.0.1 that nothing listens on, as the kernel hands them out.</summary>
internal static class LoopbackPorts
{
    /// <summary>A port free now: for a server a test starts itself.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>An upstream address where connecting is refused.</summary>
    public static string RefusingUrl() => $"http://127.0.0.1:{Free()}/";
}

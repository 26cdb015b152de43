using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Caching;

/// <summary>
/// A response on its way to the client whose body is being copied (<see cref="CaptureStream"/>): once it has all gone,
/// it is stored and handed to the requests that waited for it.
/// </summary>
internal sealed class PendingStore(
    ResponseStore store, HttpContext http, CaptureStream capture, StoredResponse entry, string primaryKey, VaryRule? rule,
    string[] varyHeaders, string varyValues, Flights.Flight? flight)
{
    /// <summary>Stores the response when its body was copied whole and the client took it all; otherwise lands the flight empty.</summary>
    public async Task CompleteAsync()
    {
        var body = capture.TakeBody();
        if (body is null || http.RequestAborted.IsCancellationRequested)
        {
            flight?.Land(null);
            return;
        }
        var stored = entry with { Body = body };
        // The write is issued before the flight lands, so a request that found the old copy while the flight was
        // under way finds the new one once it is not (the cache applies one connection's commands in order);
        // the waiters need not wait for the write to be acknowledged.
        var storing = store.StoreAsync(primaryKey, rule, varyHeaders, varyValues, stored);
        flight?.Land(new FlightResult(stored, varyHeaders, varyValues));
        await storing.ConfigureAwait(false);
    }
}

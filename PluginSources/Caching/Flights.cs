using System.Collections.Concurrent;

namespace Gateway.Plugins.Caching;

/// <summary>
/// The requests of this node that are fetching a key from upstream. The first miss for a key leads; concurrent
/// misses wait for its result instead of sending their own request (request collapsing).
/// </summary>
internal sealed class Flights
{
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);

    /// <summary>Leads a new flight for <paramref name="key"/>, or returns null and the flight already under way.</summary>
    public Flight? TryLead(string key, out Flight? underWay)
    {
        var flight = new Flight(this, key);
        underWay = _flights.GetOrAdd(key, flight);
        if (ReferenceEquals(underWay, flight))
        {
            underWay = null;
            return flight;
        }
        return null;
    }

    /// <summary>The flight under way for <paramref name="key"/>, if any.</summary>
    public Flight? UnderWay(string key) => _flights.GetValueOrDefault(key);

    private void Land(Flight flight) => _flights.TryRemove(new KeyValuePair<string, Flight>(flight.Key, flight));

    internal sealed class Flight(Flights flights, string key)
    {
        private readonly TaskCompletionSource<FlightResult?> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Key { get; } = key;

        /// <summary>Waits for the leader's result; null when it had nothing to share or took longer than <paramref name="timeout"/>.</summary>
        public async Task<FlightResult?> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        {
            try
            {
                return await _result.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }

        /// <summary>Ends the flight; the first call wins, so every path out of the leader may call it.</summary>
        public void Land(FlightResult? result)
        {
            flights.Land(this);
            _result.TrySetResult(result);
        }
    }
}

/// <summary>What a flight's leader stored: the response and the <c>Vary</c> values it was selected with.</summary>
internal sealed record FlightResult(StoredResponse Response, string[] VaryHeaders, string VaryValues);

namespace Gateway.Plugins.Retry;

/// <summary>
/// At most a share of requests may be retries: each request adds that share of a retry, each retry spends one, and
/// the balance holds at most <c>minRetries</c> plus what requests added (the same shape as Linkerd's and gRPC's
/// budgets). Under a full outage the upstream sees at most (1 + share) times the traffic, plus the minimum.
/// </summary>
internal sealed class RetryBudget(double share, int minRetries)
{
    // In millionths of a retry, so that the balance moves with interlocked integer operations.
    private const long One = 1_000_000;
    private readonly long _perRequest = (long)(share * One);
    private readonly long _cap = Math.Max(minRetries, 1) * One + (long)(share * One * 100);
    private long _balance = minRetries * One;

    /// <summary>A request came: it adds its share, up to the cap.</summary>
    public void Deposit()
    {
        var balance = Volatile.Read(ref _balance);
        while (balance < _cap)
        {
            var seen = Interlocked.CompareExchange(ref _balance, Math.Min(_cap, balance + _perRequest), balance);
            if (seen == balance)
            {
                return;
            }
            balance = seen;
        }
    }

    /// <summary>Spends a retry if the balance holds one.</summary>
    public bool TryWithdraw()
    {
        var balance = Volatile.Read(ref _balance);
        while (balance >= One)
        {
            var seen = Interlocked.CompareExchange(ref _balance, balance - One, balance);
            if (seen == balance)
            {
                return true;
            }
            balance = seen;
        }
        return false;
    }
}

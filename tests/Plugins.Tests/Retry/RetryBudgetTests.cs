using Gateway.Plugins.Retry;

namespace Gateway.Plugins.Tests.Retry;

/// <summary>Retries are at most a share of requests, plus a minimum.</summary>
public sealed class RetryBudgetTests
{
    [Theory]
    [InlineData(0.2, 10, 100, 30)]
    [InlineData(0.2, 0, 100, 20)]
    [InlineData(0.0, 3, 100, 3)]
    [InlineData(1.0, 0, 10, 10)]
    public void UnderAFullOutage_RetriesAreTheMinimumPlusTheShare(double share, int minRetries, int requests, int expected)
    {
        var budget = new RetryBudget(share, minRetries);
        var retries = 0;
        for (var i = 0; i < requests; i++)
        {
            budget.Deposit();
            if (budget.TryWithdraw())
            {
                retries++;
            }
        }

        Assert.Equal(expected, retries);
    }

    [Fact]
    public void QuietTimes_BankAtMostTheCap()
    {
        var budget = new RetryBudget(0.2, 10);
        for (var i = 0; i < 10_000; i++)
        {
            budget.Deposit();
        }

        var retries = 0;
        while (budget.TryWithdraw())
        {
            retries++;
        }

        // The minimum plus what a hundred requests add.
        Assert.Equal(30, retries);
    }
}

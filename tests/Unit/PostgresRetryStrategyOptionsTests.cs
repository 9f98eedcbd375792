// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;
using Polly;

namespace IdempotentWrites.UnitTests;

public class PostgresRetryStrategyOptionsTests
{
    [Theory]
    [InlineData("40001", true)]
    [InlineData("40P01", true)]
    [InlineData("57P01", true)]
    [InlineData("23505", false)]
    [InlineData("55000", false)]
    [InlineData("57014", false)]
    public async Task ShouldHandle_PostgresException_FollowsTheTransientTable(string sqlState, bool handled)
    {
        var options = new PostgresRetryStrategyOptions();
        var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
        var outcome = Outcome.FromException<object>(new PostgresException("m", "ERROR", "ERROR", sqlState));

        var result = await options.ShouldHandle(new Polly.Retry.RetryPredicateArguments<object>(context, outcome, 0));

        Assert.Equal(handled, result);
    }

    [Fact]
    public async Task ShouldHandle_TypedNonTransientError_NotHandled()
    {
        var options = new PostgresRetryStrategyOptions();
        var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
        var outcome = Outcome.FromException<object>(new UniqueViolationException("public", "users", "users_email_key", ["email"], [], false, null, null));

        Assert.False(await options.ShouldHandle(new Polly.Retry.RetryPredicateArguments<object>(context, outcome, 0)));
    }
}

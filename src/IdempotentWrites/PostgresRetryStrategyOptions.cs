// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Polly;
using Polly.Retry;

namespace IdempotentWrites;

/// <summary>
/// Retry options with PostgreSQL defaults: retries what <see cref="PostgresResiliencePredicates.IsTransient(Exception)"/>
/// calls transient, with exponential backoff and jitter.
/// <para/>
/// Retrying an <see cref="IIdempotentWriter.InsertOrGetAsync{T}(T, CancellationToken)"/> or an upsert is always safe,
/// even after an ambiguous commit (the connection lost after COMMIT was sent): the retry finds the row and reports
/// <see cref="WriteOutcome.Existing"/>. Plain inserts and writes inside a caller's transaction are never retried by the writer.
/// </summary>
public sealed class PostgresRetryStrategyOptions : RetryStrategyOptions
{
    /// <summary>
    /// Initializes a new instance of the <see cref="PostgresRetryStrategyOptions"/> class with PostgreSQL defaults:
    /// 6 retries, exponential backoff from 100 ms with jitter, at most 5 s between attempts.
    /// </summary>
    public PostgresRetryStrategyOptions()
    {
        Name = "IdempotentWrites.Retry";
        ShouldHandle = new PredicateBuilder().Handle<Exception>(PostgresResiliencePredicates.IsTransient);
        BackoffType = DelayBackoffType.Exponential;
        UseJitter = true;
        MaxRetryAttempts = 6;
        Delay = TimeSpan.FromMilliseconds(100);
        MaxDelay = TimeSpan.FromSeconds(5);
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites;

/// <summary>
/// The SDK's single classification of PostgreSQL failures as transient (worth retrying) or not.
/// </summary>
public static class PostgresResiliencePredicates
{
    /// <summary>
    /// Returns whether retrying after <paramref name="exception"/> may succeed: serialization failures (40001),
    /// deadlocks (40P01), lock timeouts (55P03), server shutdown or start-up (57P01–57P03), too many connections (53300),
    /// connection failures (08xxx, I/O) and timeouts. Duplicate keys (23505), exclusion (23P01) and cardinality (21000)
    /// violations, writes to GENERATED ALWAYS columns (428C9) and 55000 are never transient.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <returns><see langword="true"/> when the failure is transient.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="exception"/> is <see langword="null"/>.</exception>
    public static bool IsTransient(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return ErrorClassifier.IsTransient(exception);
    }

    /// <summary>
    /// Returns whether a PostgreSQL SQLSTATE is transient under the same table as <see cref="IsTransient(Exception)"/>.
    /// </summary>
    /// <param name="sqlState">The five-character SQLSTATE.</param>
    /// <returns><see langword="true"/> when the SQLSTATE is transient.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="sqlState"/> is <see langword="null"/>.</exception>
    public static bool IsTransientSqlState(string sqlState)
    {
        ArgumentNullException.ThrowIfNull(sqlState);
        return ErrorClassifier.IsTransientSqlState(sqlState);
    }
}

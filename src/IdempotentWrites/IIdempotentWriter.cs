// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Data;
using Npgsql;

namespace IdempotentWrites;

/// <summary>
/// Writes mapped rows to PostgreSQL so that repeating or racing a write is harmless.
/// <para/>
/// Obtain it from dependency injection after <c>services.AddIdempotentWrites(...).MapTable&lt;T&gt;(...)</c>.
/// Every method is safe to call concurrently.
/// </summary>
public interface IIdempotentWriter
{
    /// <summary>
    /// Inserts <paramref name="row"/> unless a row with the same conflict key exists, and returns the row as stored.
    /// <para/>
    /// Runs <c>INSERT … ON CONFLICT … DO NOTHING RETURNING</c> followed, in the same round trip, by a re-select
    /// in a new statement, so a concurrent insert of the same key yields <see cref="WriteOutcome.Existing"/>
    /// with the stored row instead of a duplicate-key error. Never returns <see langword="null"/>.
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="row">The row to insert.</param>
    /// <param name="cancellationToken">A token that cancels the operation, including the server-side query.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/> or <see cref="WriteOutcome.Existing"/>, with the stored row.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when a conflict-key value is <see langword="null"/> and the arbiter treats nulls as distinct.</exception>
    /// <exception cref="UniqueViolationException">Thrown when the row conflicts on a unique constraint other than the arbiter.</exception>
    /// <exception cref="IdempotentWritesException">Thrown for other integrity errors, serialization failures and mapping errors.</exception>
    Task<WriteResult<T>> InsertOrGetAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts <paramref name="row"/> unless a row with the same conflict key exists, inside the caller's transaction.
    /// <para/>
    /// The statements run under a savepoint, so an error does not abort <paramref name="transaction"/>.
    /// Under REPEATABLE READ or SERIALIZABLE, a conflicting row that the transaction's snapshot cannot see
    /// surfaces as a <see cref="TransientConflictException"/>: retry the whole transaction.
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="row">The row to insert.</param>
    /// <param name="transaction">The caller's open transaction.</param>
    /// <param name="cancellationToken">A token that cancels the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/> or <see cref="WriteOutcome.Existing"/>, with the stored row.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> or <paramref name="transaction"/> is <see langword="null"/>.</exception>
    Task<WriteResult<T>> InsertOrGetAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts <paramref name="row"/>, or updates the existing row with the same conflict key.
    /// <para/>
    /// Runs <c>INSERT … ON CONFLICT … DO UPDATE SET c = EXCLUDED.c … WHERE … IS DISTINCT FROM …</c>, so a row that
    /// already holds the values is not rewritten and is reported as <see cref="WriteOutcome.Unchanged"/>.
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="row">The row to insert or apply.</param>
    /// <param name="cancellationToken">A token that cancels the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Updated"/> or <see cref="WriteOutcome.Unchanged"/>, with the stored row.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> is <see langword="null"/>.</exception>
    Task<WriteResult<T>> UpsertAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts <paramref name="row"/>, or updates the existing row with the same conflict key, inside the caller's transaction (under a savepoint).
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="row">The row to insert or apply.</param>
    /// <param name="transaction">The caller's open transaction.</param>
    /// <param name="cancellationToken">A token that cancels the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Updated"/> or <see cref="WriteOutcome.Unchanged"/>, with the stored row.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> or <paramref name="transaction"/> is <see langword="null"/>.</exception>
    Task<WriteResult<T>> UpsertAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts <paramref name="row"/> with a plain <c>INSERT … RETURNING</c>; a duplicate key is an error, not a result.
    /// <para/>
    /// Use it where a duplicate must be reported to the caller (for example a registration endpoint).
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="row">The row to insert.</param>
    /// <param name="cancellationToken">A token that cancels the operation.</param>
    /// <returns>The inserted row, with generated columns filled.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> is <see langword="null"/>.</exception>
    /// <exception cref="UniqueViolationException">Thrown when the row conflicts on any unique constraint, the arbiter included.</exception>
    Task<T> InsertAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Runs <paramref name="work"/> in a new transaction and commits it, retrying the whole transaction through the
    /// writer's resilience pipeline when it fails with a transient fault (serialization failure, deadlock, lost connection).
    /// <para/>
    /// The work may run more than once, so it must be safe to repeat: the writer's own operations are; the transaction
    /// rolls back everything else a failed attempt did. After an ambiguous commit (connection lost while committing)
    /// the work runs again and finds its rows (<see cref="WriteOutcome.Existing"/>).
    /// </summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="work">The transactional work; pass its transaction to the writer's overloads that take one.</param>
    /// <param name="isolationLevel">The isolation level of the transaction.</param>
    /// <param name="cancellationToken">A token that cancels the operation, including the server-side query.</param>
    /// <returns>The result of the committed attempt.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="work"/> is <see langword="null"/>.</exception>
    Task<TResult> ExecuteInTransactionAsync<TResult>(
        Func<NpgsqlTransaction, CancellationToken, Task<TResult>> work,
        IsolationLevel isolationLevel = IsolationLevel.ReadCommitted,
        CancellationToken cancellationToken = default);
}

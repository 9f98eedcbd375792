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
    /// <exception cref="ArgumentException">Thrown when a conflict-key value is <see langword="null"/> and the arbiter
    /// treats nulls as distinct.</exception>
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
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> or <paramref name="transaction"/> is
    /// <see langword="null"/>.</exception>
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
    /// <returns><see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Updated"/> or
    /// <see cref="WriteOutcome.Unchanged"/>, with the stored row.</returns>
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
    /// <returns><see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Updated"/> or
    /// <see cref="WriteOutcome.Unchanged"/>, with the stored row.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> or <paramref name="transaction"/> is
    /// <see langword="null"/>.</exception>
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
    /// Inserts <paramref name="row"/> with a plain <c>INSERT … RETURNING</c> inside the caller's transaction (under a savepoint,
    /// so a duplicate key leaves the transaction usable); a duplicate key is an error, not a result.
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="row">The row to insert.</param>
    /// <param name="transaction">The caller's open transaction.</param>
    /// <param name="cancellationToken">A token that cancels the operation.</param>
    /// <returns>The inserted row, with generated columns filled.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> or <paramref name="transaction"/> is
    /// <see langword="null"/>.</exception>
    /// <exception cref="UniqueViolationException">Thrown when the row conflicts on any unique constraint, the arbiter included.</exception>
    Task<T> InsertAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts many rows, skipping those whose conflict key already exists, and reports what happened to every row.
    /// <para/>
    /// Rows stream in chunks of <see cref="BulkWriteOptions.ChunkSize"/>: each chunk is copied (binary <c>COPY</c>) into a
    /// temporary staging table, then one <c>INSERT … SELECT … ON CONFLICT … DO NOTHING</c> writes it in input order
    /// and commits; the next chunk is staged meanwhile. Memory stays bounded by two chunks whatever the input
    /// size. The first row of a key wins; later rows with
    /// the same key are counted in <see cref="BulkWriteReport.DuplicatesInInput"/>, rows whose key someone else stored
    /// in <see cref="BulkWriteReport.Existing"/>. Running the same import again (after a crash or a cancellation) leaves
    /// exactly the table one uninterrupted run would. Afterwards the sequences behind the written columns are moved past
    /// the imported values (<see cref="BulkWriteOptions.SynchronizeSequences"/>).
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size, progress receiver and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the import cleanly after the chunk in flight (see <see cref="BulkWriteCanceledException"/>).</param>
    /// <returns>The report: inserted, existing and duplicate counts, chunks, elapsed time, and the rows skipped.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="rows"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when an option is out of range (the message names it).</exception>
    /// <exception cref="BulkWriteCanceledException">Thrown when canceled; carries the totals of the committed chunks.</exception>
    /// <exception cref="BulkWriteException">Thrown when a chunk fails (rolled back whole) or the input cannot be read;
    /// carries the totals of the committed chunks and the cause.</exception>
    Task<BulkWriteReport<T>> InsertManyAsync<T>(IEnumerable<T> rows, BulkWriteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts many rows from an asynchronous stream, skipping those whose conflict key already exists; see
    /// <see cref="InsertManyAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size, progress receiver and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the import cleanly after the chunk in flight.</param>
    /// <returns>The report.</returns>
    Task<BulkWriteReport<T>> InsertManyAsync<T>(
        IAsyncEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts many rows, or updates the existing rows with the same conflict keys, chunk by chunk like
    /// <see cref="InsertManyAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/>.
    /// <para/>
    /// PostgreSQL refuses to update one row twice in a statement (error 21000), so each chunk is de-duplicated first:
    /// the <b>last</b> row of a key wins, the earlier ones are counted in <see cref="BulkWriteReport.DuplicatesInInput"/>.
    /// Rows that already hold the incoming values are not rewritten (<see cref="BulkWriteReport.Unchanged"/>).
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size, progress receiver and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the operation cleanly after the chunk in flight.</param>
    /// <returns>The report: inserted, updated, unchanged and duplicate counts.</returns>
    Task<BulkWriteReport<T>> UpsertManyAsync<T>(IEnumerable<T> rows, BulkWriteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Inserts or updates many rows from an asynchronous stream; see
    /// <see cref="UpsertManyAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size, progress receiver and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the operation cleanly after the chunk in flight.</param>
    /// <returns>The report.</returns>
    Task<BulkWriteReport<T>> UpsertManyAsync<T>(
        IAsyncEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Reports which incoming keys already exist, and which repeat inside the input, without writing anything: the rows
    /// are staged in one transaction that is rolled back. <see cref="BulkWriteReport.Inserted"/> counts the rows an
    /// <see cref="InsertManyAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/> would insert at this moment.
    /// </summary>
    /// <typeparam name="T">A type mapped with <c>MapTable&lt;T&gt;</c>.</typeparam>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">A token that cancels the preview.</param>
    /// <returns>A report with <see cref="BulkWriteReport.IsPreview"/> set, the existing rows and the duplicates.</returns>
    Task<BulkWriteReport<T>> PreviewConflictsAsync<T>(
        IEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
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

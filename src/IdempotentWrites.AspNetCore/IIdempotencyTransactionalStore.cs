// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// An <see cref="IIdempotencyStore"/> that keeps its keys in a PostgreSQL database and can store a response inside a
/// transaction on that database: what transactional mode (<see cref="HttpIdempotencyOptions.Transactional"/>) needs, so that
/// the handler's writes and its stored response commit together. The default PostgreSQL key store implements it; a custom
/// store without it cannot serve a transactional policy (the middleware refuses to start).
/// <para/>
/// The middleware claims the key with <see cref="IIdempotencyStore.ClaimAsync"/> as in the default mode, then opens a
/// transaction with <see cref="BeginTransactionAsync"/>, runs the handler in it (see <see cref="IIdempotencyTransactionFeature"/>),
/// stores the response with <see cref="CompleteAsync(NpgsqlTransaction, string, string, long, IdempotencyResponse, TimeSpan, CancellationToken)"/>
/// and commits. The claim itself is never part of that transaction. When the request fails, the transaction is rolled back
/// and its connection, still held, releases the key or stores the error's problem (in a new transaction): a failing request
/// never waits for a second pooled connection.
/// </summary>
public interface IIdempotencyTransactionalStore : IIdempotencyStore
{
    /// <summary>
    /// Opens a connection to the database that holds the keys and begins a transaction on it (READ COMMITTED).
    /// </summary>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>
    /// The open transaction. The caller owns it and its <see cref="NpgsqlTransaction.Connection"/>: it commits or rolls back,
    /// then disposes the transaction and the connection.
    /// </returns>
    ValueTask<NpgsqlTransaction> BeginTransactionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores the response of the execution that holds <paramref name="fencingToken"/> and ends its lease, inside
    /// <paramref name="transaction"/>, without committing it: the response is stored when the caller commits, and not at all
    /// when it rolls back.
    /// </summary>
    /// <param name="transaction">A transaction from <see cref="BeginTransactionAsync"/>.</param>
    /// <param name="scope">The scope of the key.</param>
    /// <param name="key">The idempotency key.</param>
    /// <param name="fencingToken">The fencing token returned by the claim.</param>
    /// <param name="response">The response to replay.</param>
    /// <param name="retention">How long the response is replayed, from now.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns><see langword="false"/> when the claim was lost (taken over after the lease, or released): nothing was stored.</returns>
    ValueTask<bool> CompleteAsync(
        NpgsqlTransaction transaction,
        string scope,
        string key,
        long fencingToken,
        IdempotencyResponse response,
        TimeSpan retention,
        CancellationToken cancellationToken);

    /// <summary>
    /// Releases the key held by <paramref name="fencingToken"/>, as <see cref="IIdempotencyStore.ReleaseAsync"/> does, on
    /// <paramref name="connection"/>: the connection of a transaction from <see cref="BeginTransactionAsync"/> that was rolled
    /// back. The release commits on its own. A request that fails holds no second pooled connection for it, so a pool full of
    /// transactional requests cannot keep their keys from being released.
    /// </summary>
    /// <param name="connection">An open connection with no transaction in progress.</param>
    /// <param name="scope">The scope of the key.</param>
    /// <param name="key">The idempotency key.</param>
    /// <param name="fencingToken">The fencing token returned by the claim.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns><see langword="false"/> when the key was not held by this token (completed, released or taken over).</returns>
    ValueTask<bool> ReleaseAsync(NpgsqlConnection connection, string scope, string key, long fencingToken, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the record that holds a key, as a new request with it would find it, on <paramref name="connection"/> (see
    /// <see cref="ReleaseAsync(NpgsqlConnection, string, string, long, CancellationToken)"/>); for answering a request whose
    /// claim was lost.
    /// </summary>
    /// <param name="connection">An open connection with no transaction in progress.</param>
    /// <param name="scope">The scope of the key.</param>
    /// <param name="key">The idempotency key.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>The record, or <see langword="null"/> when the key is absent or expired.</returns>
    ValueTask<IdempotencyRecord?> GetAsync(NpgsqlConnection connection, string scope, string key, CancellationToken cancellationToken);
}

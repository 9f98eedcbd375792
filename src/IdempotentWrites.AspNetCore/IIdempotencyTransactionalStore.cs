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
/// and commits. The claim itself is never part of that transaction.
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
    /// Reads the record that holds a key, as a new request with it would find it; for answering a request whose claim was lost.
    /// </summary>
    /// <param name="scope">The scope of the key.</param>
    /// <param name="key">The idempotency key.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>The record, or <see langword="null"/> when the key is absent or expired.</returns>
    ValueTask<IdempotencyRecord?> GetAsync(string scope, string key, CancellationToken cancellationToken);
}

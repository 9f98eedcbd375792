// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// Stores idempotency keys, their in-progress leases and the responses to replay. Every app instance must share the
/// store: the default implementation is a PostgreSQL table, and every time it compares comes from the database clock.
/// <para/>
/// Keys are unique per scope (tenant and principal, see <see cref="IIdempotencyScopeResolver"/>). Implementations must
/// treat expired records as absent, and must make <see cref="ClaimAsync"/> atomic: of two concurrent claims of an absent
/// key, exactly one acquires it.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>
    /// Claims a key for a new execution, or returns the record that holds it.
    /// <para/>
    /// The key is acquired (with a new fencing token) when it is absent or expired, or when it is in progress with an
    /// ended lease and the same fingerprint (a takeover from a crashed owner). Otherwise the existing record is returned
    /// unchanged, whatever its fingerprint.
    /// </summary>
    /// <param name="scope">The scope of the key.</param>
    /// <param name="key">The idempotency key.</param>
    /// <param name="fingerprint">The SHA-256 fingerprint of the request.</param>
    /// <param name="lease">How long the key stays locked for this execution.</param>
    /// <param name="retention">How long the record lives.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>The outcome of the claim; never <see langword="null"/>.</returns>
    ValueTask<IdempotencyClaim> ClaimAsync(
        string scope,
        string key,
        ReadOnlyMemory<byte> fingerprint,
        TimeSpan lease,
        TimeSpan retention,
        CancellationToken cancellationToken);

    /// <summary>
    /// Stores the response of the execution that holds <paramref name="fencingToken"/> and ends its lease.
    /// </summary>
    /// <param name="scope">The scope of the key.</param>
    /// <param name="key">The idempotency key.</param>
    /// <param name="fencingToken">The fencing token returned by the claim.</param>
    /// <param name="response">The response to replay.</param>
    /// <param name="retention">How long the response is replayed, from now.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns><see langword="false"/> when the claim was lost (taken over after the lease, or released): nothing was stored.</returns>
    ValueTask<bool> CompleteAsync(
        string scope,
        string key,
        long fencingToken,
        IdempotencyResponse response,
        TimeSpan retention,
        CancellationToken cancellationToken);

    /// <summary>
    /// Releases the key held by <paramref name="fencingToken"/>, so the next request with it runs the handler again.
    /// </summary>
    /// <param name="scope">The scope of the key.</param>
    /// <param name="key">The idempotency key.</param>
    /// <param name="fencingToken">The fencing token returned by the claim.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns><see langword="false"/> when the claim was already lost or completed: nothing was released.</returns>
    ValueTask<bool> ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> expired records.
    /// </summary>
    /// <param name="batchSize">The largest number of records to delete.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>The number of records deleted.</returns>
    ValueTask<int> PurgeExpiredAsync(int batchSize, CancellationToken cancellationToken);
}

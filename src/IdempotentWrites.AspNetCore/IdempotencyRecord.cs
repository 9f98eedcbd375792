// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// A stored idempotency key: the fingerprint of its request, and its response once the execution completed.
/// </summary>
public sealed class IdempotencyRecord
{
    /// <summary>
    /// Initializes a new instance of the <see cref="IdempotencyRecord"/> class.
    /// </summary>
    /// <param name="fingerprint">The SHA-256 fingerprint of the request that claimed the key.</param>
    /// <param name="fencingToken">The fencing token of the execution that holds the key.</param>
    /// <param name="leaseRemaining">The time left on the in-progress lease, by the store's clock;
    /// <see cref="TimeSpan.Zero"/> when it ended or the record is completed.</param>
    /// <param name="response">The stored response; <see langword="null"/> while the execution is in progress.</param>
    public IdempotencyRecord(ReadOnlyMemory<byte> fingerprint, long fencingToken, TimeSpan leaseRemaining, IdempotencyResponse? response)
    {
        Fingerprint = fingerprint;
        FencingToken = fencingToken;
        LeaseRemaining = leaseRemaining < TimeSpan.Zero ? TimeSpan.Zero : leaseRemaining;
        Response = response;
    }

    /// <summary>
    /// Gets the SHA-256 fingerprint of the request that claimed the key.
    /// </summary>
    public ReadOnlyMemory<byte> Fingerprint { get; }

    /// <summary>
    /// Gets the fencing token of the execution that holds the key.
    /// </summary>
    public long FencingToken { get; }

    /// <summary>
    /// Gets the time left on the in-progress lease; <see cref="TimeSpan.Zero"/> when it ended or the record is completed.
    /// </summary>
    public TimeSpan LeaseRemaining { get; }

    /// <summary>
    /// Gets the stored response; <see langword="null"/> while the execution is in progress.
    /// </summary>
    public IdempotencyResponse? Response { get; }

    /// <summary>
    /// Gets a value indicating whether the execution completed and its response is stored.
    /// </summary>
    public bool IsCompleted => Response is not null;
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// The result of <see cref="IIdempotencyStore.ClaimAsync"/>.
/// </summary>
public sealed class IdempotencyClaim
{
    private IdempotencyClaim(IdempotencyClaimOutcome outcome, long fencingToken, bool isTakeover, IdempotencyRecord? record)
    {
        Outcome = outcome;
        IsTakeover = isTakeover;
        FencingToken = fencingToken;
        Record = record;
    }

    /// <summary>
    /// Gets the outcome of the claim.
    /// </summary>
    public IdempotencyClaimOutcome Outcome { get; }

    /// <summary>
    /// Gets the fencing token of the acquired claim; 0 when the key was not acquired.
    /// </summary>
    public long FencingToken { get; }

    /// <summary>
    /// Gets a value indicating whether the key was acquired by taking over an expired record or an in-progress record whose lease ended.
    /// </summary>
    public bool IsTakeover { get; }

    /// <summary>
    /// Gets the record that holds the key when it was not acquired; <see langword="null"/> when it was.
    /// </summary>
    public IdempotencyRecord? Record { get; }

    /// <summary>
    /// Creates the result of a claim that acquired the key.
    /// </summary>
    /// <param name="fencingToken">The fencing token of the new execution.</param>
    /// <param name="isTakeover">Whether an expired record or an in-progress record whose lease ended was taken over.</param>
    /// <returns>The claim.</returns>
    public static IdempotencyClaim Acquired(
        long fencingToken,
        bool isTakeover) => new(IdempotencyClaimOutcome.Acquired, fencingToken, isTakeover, null);

    /// <summary>
    /// Creates the result of a claim that found the key held by another execution.
    /// </summary>
    /// <param name="record">The record that holds the key.</param>
    /// <returns>The claim.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="record"/> is <see langword="null"/>.</exception>
    public static IdempotencyClaim Exists(IdempotencyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(IdempotencyClaimOutcome.Exists, 0, false, record);
    }
}

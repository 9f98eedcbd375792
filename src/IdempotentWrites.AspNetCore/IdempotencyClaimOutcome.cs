// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// The outcome of <see cref="IIdempotencyStore.ClaimAsync"/>.
/// </summary>
public enum IdempotencyClaimOutcome
{
    /// <summary>The key was acquired for a new execution; <see cref="IdempotencyClaim.FencingToken"/> identifies it.</summary>
    Acquired = 0,

    /// <summary>Another execution holds the key, in progress or completed; <see cref="IdempotencyClaim.Record"/> describes it.</summary>
    Exists = 1,
}

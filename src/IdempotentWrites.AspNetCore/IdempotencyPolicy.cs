// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// A named idempotency policy (see <see cref="HttpIdempotencyOptions.AddPolicy(string, Action{IdempotencyPolicy})"/>).
/// Each setting left <see langword="null"/> takes the value of <see cref="HttpIdempotencyOptions"/>.
/// </summary>
public sealed class IdempotencyPolicy
{
    /// <summary>
    /// Gets or sets the in-progress lease; see <see cref="HttpIdempotencyOptions.Lease"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (inherit).</value>
    public TimeSpan? Lease { get; set; }

    /// <summary>
    /// Gets or sets how long a stored response is replayed; see <see cref="HttpIdempotencyOptions.Retention"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (inherit).</value>
    public TimeSpan? Retention { get; set; }

    /// <summary>
    /// Gets or sets the largest stored response body; see <see cref="HttpIdempotencyOptions.MaxResponseBodySize"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (inherit).</value>
    public long? MaxResponseBodySize { get; set; }

    /// <summary>
    /// Gets or sets how long a request waits for an in-progress key; see <see cref="HttpIdempotencyOptions.InProgressWaitTimeout"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (inherit).</value>
    public TimeSpan? InProgressWaitTimeout { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the handler's writes and the stored response commit in one transaction;
    /// see <see cref="HttpIdempotencyOptions.Transactional"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (inherit).</value>
    public bool? Transactional { get; set; }
}

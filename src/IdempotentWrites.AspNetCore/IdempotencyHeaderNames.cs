// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// The HTTP header fields of the <c>Idempotency-Key</c> protocol (IETF httpapi draft, with Stripe's replay header).
/// </summary>
public static class IdempotencyHeaderNames
{
    /// <summary>The request header carrying the idempotency key: <c>Idempotency-Key</c>.</summary>
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>The response header set to <c>true</c> on a replayed response: <c>Idempotent-Replayed</c>.</summary>
    public const string IdempotentReplayed = "Idempotent-Replayed";
}

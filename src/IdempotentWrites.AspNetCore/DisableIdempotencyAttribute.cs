// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// Turns idempotency off for an endpoint, overriding a <see cref="RequireIdempotencyKeyAttribute"/> on its controller or
/// route group. <c>.DisableIdempotency()</c> adds <see cref="Instance"/> to minimal APIs.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DisableIdempotencyAttribute : Attribute
{
    /// <summary>
    /// Gets the shared instance that <c>.DisableIdempotency()</c> adds.
    /// </summary>
    public static DisableIdempotencyAttribute Instance { get; } = new();
}

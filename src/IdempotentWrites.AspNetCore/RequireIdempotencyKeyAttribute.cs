// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// Requires an <c>Idempotency-Key</c> header on the endpoint's unsafe requests (POST, PUT, PATCH, DELETE) and makes them
/// idempotent through <c>app.UseIdempotency()</c>. <c>.RequireIdempotencyKey()</c> adds the same metadata to minimal APIs.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class RequireIdempotencyKeyAttribute : Attribute
{
    /// <summary>
    /// Initializes a new instance of the <see cref="RequireIdempotencyKeyAttribute"/> class with the default policy
    /// (the values of <see cref="HttpIdempotencyOptions"/>).
    /// </summary>
    public RequireIdempotencyKeyAttribute()
    {
    }

    /// <summary>
    /// Initializes a new instance of the <see cref="RequireIdempotencyKeyAttribute"/> class with a named policy.
    /// </summary>
    /// <param name="policyName">The name of a policy added with
    /// <see cref="HttpIdempotencyOptions.AddPolicy(string, Action{IdempotencyPolicy})"/>.</param>
    /// <exception cref="ArgumentException">Thrown when <paramref name="policyName"/> is blank.</exception>
    public RequireIdempotencyKeyAttribute(string policyName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(policyName);
        PolicyName = policyName;
    }

    /// <summary>
    /// Gets the name of the policy; <see langword="null"/> for the default policy.
    /// </summary>
    public string? PolicyName { get; }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Idempotency extension methods for <see cref="IEndpointConventionBuilder"/>.
/// </summary>
public static class IdempotencyEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Requires an <c>Idempotency-Key</c> header on the endpoints' unsafe requests, under the default policy.
    /// Adds the same metadata as <see cref="RequireIdempotencyKeyAttribute"/>.
    /// </summary>
    /// <typeparam name="TBuilder">The type of the endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint convention builder.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    public static TBuilder RequireIdempotencyKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = new RequireIdempotencyKeyAttribute();
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }

    /// <summary>
    /// Requires an <c>Idempotency-Key</c> header on the endpoints' unsafe requests, under a named policy.
    /// Adds the same metadata as <see cref="RequireIdempotencyKeyAttribute"/>.
    /// </summary>
    /// <typeparam name="TBuilder">The type of the endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint convention builder.</param>
    /// <param name="policyName">The name of a policy added with
    /// <see cref="HttpIdempotencyOptions.AddPolicy(string, Action{IdempotencyPolicy})"/>.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="policyName"/> is blank.</exception>
    public static TBuilder RequireIdempotencyKey<TBuilder>(this TBuilder builder, string policyName)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(policyName);
        var metadata = new RequireIdempotencyKeyAttribute(policyName);
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }

    /// <summary>
    /// Turns idempotency off for the endpoints, overriding a requirement on their route group.
    /// Adds <see cref="DisableIdempotencyAttribute.Instance"/>.
    /// </summary>
    /// <typeparam name="TBuilder">The type of the endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint convention builder.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    public static TBuilder DisableIdempotency<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(endpoint => endpoint.Metadata.Add(DisableIdempotencyAttribute.Instance));
        return builder;
    }
}

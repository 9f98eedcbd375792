// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the readiness health check of the IdempotentWrites writer.
/// </summary>
public static class IdempotentWritesHealthChecksBuilderExtensions
{
    /// <summary>
    /// The default name of the writer's readiness health check.
    /// </summary>
    public const string DefaultName = "idempotent-writes";

    /// <summary>
    /// Adds a readiness check for the writer registered by <c>AddIdempotentWrites</c>: <see cref="HealthStatus.Healthy"/> when the
    /// database is reachable and every table mapping matches it; otherwise the failure status, with a description that says
    /// what is wrong (the database error, or each failing mapping with the same message its calls throw).
    /// <para/>
    /// The check never throws. It checks each mapping once (then cached, as calls do) and opens one connection per run.
    /// Add <c>AddSequenceDriftCheck()</c> as well to report sequences behind their data.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The health check's name.</param>
    /// <param name="failureStatus">The status reported when the database is unreachable or a mapping is invalid;
    /// <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter health checks by (for example <c>"ready"</c>), or <see langword="null"/>.</param>
    /// <param name="timeout">The check's timeout, or <see langword="null"/> for none.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is blank.</exception>
    public static IHealthChecksBuilder AddIdempotentWritesCheck(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => sp.GetService<IIdempotentWriter>() is IdempotentWriter writer
                ? new WriterHealthCheck(writer)
                : new FailedHealthCheck("IdempotentWrites is not registered: call services.AddIdempotentWrites(...)."),
            failureStatus,
            tags,
            timeout));
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;

namespace OpenTelemetry.Metrics;

/// <summary>
/// Adds IdempotentWrites metrics to an OpenTelemetry meter provider.
/// </summary>
public static class IdempotentWritesMeterProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the <see cref="IdempotentWritesTelemetry.MeterName"/> meter (and the ASP.NET Core package's
    /// <see cref="IdempotentWritesTelemetry.AspNetCoreName"/>): operations, conflicts, retries, durations and HTTP
    /// idempotency results.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    public static MeterProviderBuilder AddIdempotentWritesInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(IdempotentWritesTelemetry.MeterName, IdempotentWritesTelemetry.AspNetCoreName);
    }
}

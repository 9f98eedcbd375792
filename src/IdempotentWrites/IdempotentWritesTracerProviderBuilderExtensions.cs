// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;

namespace OpenTelemetry.Trace;

/// <summary>
/// Adds IdempotentWrites spans to an OpenTelemetry tracer provider.
/// </summary>
public static class IdempotentWritesTracerProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the <see cref="IdempotentWritesTelemetry.ActivitySourceName"/> activity source (and the ASP.NET
    /// Core package's <see cref="IdempotentWritesTelemetry.AspNetCoreName"/>): one span per operation,
    /// the parent of Npgsql's own database spans.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    public static TracerProviderBuilder AddIdempotentWritesInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(IdempotentWritesTelemetry.ActivitySourceName, IdempotentWritesTelemetry.AspNetCoreName);
    }
}

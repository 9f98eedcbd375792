// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// Readiness: the database answers and every mapping resolves. Any failure is a result with its reason, never a throw.
internal sealed class WriterHealthCheck(IdempotentWriter writer) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await IdempotentWriter.OpenAsync(writer.DataSource, cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }

            var failures = await writer.ValidateEachAsync(cancellationToken).ConfigureAwait(false);
            if (failures.Count > 0)
            {
                var data = failures.ToDictionary(f => f.Table, f => (object)f.Message, StringComparer.Ordinal);
                return new HealthCheckResult(
                    context.Registration.FailureStatus,
                    $"{failures.Count} of {writer.MappingCount} table mappings do not match the database: " +
                    $"{string.Join(" | ", failures.Select(f => f.Message))}",
                    data: data);
            }

            return HealthCheckResult.Healthy($"The database is reachable and all {writer.MappingCount} table mappings are valid.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, ex.Message, ex);
        }
    }
}

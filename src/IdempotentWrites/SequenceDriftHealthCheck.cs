// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using IdempotentWrites.Internal.Sequences;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IdempotentWrites;

// Degraded while any sequence is behind its data (default inserts fail) or nearly exhausted; the data lists each one.
// An adapter over the public SequenceDoctor, so it lives beside it and not under Internal/ (which never calls a façade).
internal sealed class SequenceDriftHealthCheck(SequenceDoctor doctor) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        SequenceCheckReport report;
        try
        {
            report = await doctor.CheckAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Any failure is a result, never an exception: /health must say what is wrong, not answer 500.
            return new HealthCheckResult(context.Registration.FailureStatus, $"The sequence drift check could not run: {ex.Message}", ex);
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var finding in report.Drifted)
        {
            data[finding.DisplayName] = string.Create(
                CultureInfo.InvariantCulture,
                $"drifted: next value {SequenceText.Value(finding.NextValue)}, data " +
                $"{(finding.IsDescending ? "min" : "max")} {SequenceText.Value(finding.DataExtreme)}, required " +
                $"{SequenceText.Value(finding.RequiredNextValue)}; columns " +
                $"{string.Join(", ", finding.Columns.Select(c => c.DisplayName))}");
        }

        foreach (var finding in report.NearlyExhausted.Where(f => f.Status != SequenceStatus.Drifted))
        {
            data[finding.DisplayName] = string.Create(
                CultureInfo.InvariantCulture,
                $"nearly exhausted: {finding.UsedFraction * 100:0.0}% of its range used");
        }

        if (report.HasDrift)
        {
            return HealthCheckResult.Degraded(
                $"{report.Drifted.Count} of {report.Findings.Count} sequences are behind their data, so default " +
                $"inserts fail with duplicate-key errors: " +
                $"{string.Join(", ", report.Drifted.Select(f => f.DisplayName))}. Repair with `iw sequences fix` or " +
                $"SequenceDoctor.FixAsync.",
                data: data);
        }

        return report.NearlyExhausted.Count > 0
            ? HealthCheckResult.Degraded(
                $"{report.NearlyExhausted.Count} sequences are nearly exhausted: " +
                $"{string.Join(", ", report.NearlyExhausted.Select(f => f.DisplayName))}.",
                data: data)
            : HealthCheckResult.Healthy($"{report.Findings.Count} sequences checked; none is behind its data.", data);
    }
}

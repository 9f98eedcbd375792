// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IdempotentWrites.Internal.Writing;

// A check that could not be built: reports the reason with the registration's failure status, never throws.
internal sealed class FailedHealthCheck(string reason) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, reason));
}

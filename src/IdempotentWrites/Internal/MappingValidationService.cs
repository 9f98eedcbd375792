// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.Internal;

// Checks every table mapping against the catalog when the host starts, so a mismatch fails startup.
internal sealed class MappingValidationService(IdempotentWriter writer, IOptions<IdempotentWritesOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
        => options.Value.ValidateMappingsOnStartup ? writer.ValidateAllAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.Internal.Mapping;

// Checks every table mapping against the catalog when the host starts. A schema mismatch found then fails startup (it is
// a deployment error). An unreachable database does not: in Kubernetes or compose the app often starts first. The host
// starts, the check retries in the background with backoff, and calls meanwhile fail with DatabaseUnavailableException
// (each call also resolves its own mapping, so they recover even before the background check does).
internal sealed class MappingValidationService(
    IdempotentWriter writer,
    IOptions<IdempotentWritesOptions> options,
    ILogger<MappingValidationService>? logger = null) : IHostedService, IDisposable
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private readonly CancellationTokenSource _stop = new();
    private Task _background = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ValidateMappingsOnStartup)
        {
            return;
        }

        try
        {
            await writer.ValidateAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseUnavailableException ex)
        {
            _logger.DatabaseUnavailableAtStartup(UntilReachable.MaxDelay, ex);
            _background = RetryAsync(_stop.Token);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _background.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stop.Dispose();

    private Task RetryAsync(CancellationToken cancellationToken)
        => UntilReachable.RetryAsync(
            async token =>
            {
                var failures = await writer.ValidateEachAsync(token).ConfigureAwait(false);
                foreach (var failure in failures)
                {
                    // Loud, once: calls for this mapping keep failing with the same message until it is fixed.
                    _logger.MappingInvalid(failure.Table, failure);
                }

                if (failures.Count == 0)
                {
                    _logger.MappingsValidated(writer.MappingCount);
                }
            },
            static ex => ex is DatabaseUnavailableException,
            cancellationToken);
}

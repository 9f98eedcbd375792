// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

// Deletes expired keys in batches every PurgeInterval. Expired keys already read as absent, so a late or failed purge
// only costs disk space; several instances may purge at once (SKIP LOCKED).
internal sealed class IdempotencyPurgeService(
    IIdempotencyStore store,
    IOptions<HttpIdempotencyOptions> options,
    IdempotentWritesHttpMetrics metrics,
    TimeProvider timeProvider,
    ILogger<IdempotencyPurgeService> logger) : BackgroundService
{
    public async Task<long> PurgeOnceAsync(CancellationToken cancellationToken)
    {
        var purged = await IdempotencyStoreSchema.PurgeAllAsync(store, options.Value.PurgeBatchSize, cancellationToken).ConfigureAwait(false);
        metrics.Purged(purged);
        logger.KeysPurged(purged);
        return purged;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var value = options.Value;
        if (!value.PurgeExpiredKeys)
        {
            return;
        }

        using var timer = new PeriodicTimer(value.PurgeInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await PurgeOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.PurgeFailed(value.PurgeInterval, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
    }
}

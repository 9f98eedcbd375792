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
    // Batch after batch until one comes back short.
    public async Task<long> PurgeOnceAsync(CancellationToken cancellationToken)
    {
        var batchSize = options.Value.PurgeBatchSize;
        long purged = 0;
        int deleted;
        do
        {
            deleted = await store.PurgeExpiredAsync(batchSize, cancellationToken).ConfigureAwait(false);
            purged += deleted;
        }
        while (deleted == batchSize);
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

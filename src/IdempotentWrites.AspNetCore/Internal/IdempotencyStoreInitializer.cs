// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

// Creates the store table when allowed, in StartingAsync: before any hosted service's StartAsync, the server's included.
internal sealed class IdempotencyStoreInitializer(
    IServiceProvider services,
    IOptions<HttpIdempotencyOptions> options,
    ILogger<IdempotencyStoreInitializer> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var value = options.Value;
        if (!value.CreateStoreTable)
        {
            return;
        }

        var dataSource = (IdempotentWritesDataSource)services.GetService(typeof(IdempotentWritesDataSource))!;
        await IdempotencyStoreSchema.MigrateAsync(dataSource.DataSource, value.SchemaName, value.TableName, cancellationToken).ConfigureAwait(false);
        logger.StoreTableReady(new StoreSql(value.SchemaName, value.TableName).Table);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

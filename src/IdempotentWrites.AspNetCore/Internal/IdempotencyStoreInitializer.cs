// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites.AspNetCore.Internal;

// Creates the store table when allowed, in StartingAsync: before any hosted service's StartAsync, the server's included.
internal sealed class IdempotencyStoreInitializer(
    IServiceProvider services,
    IOptions<HttpIdempotencyOptions> options,
    ILogger<IdempotencyStoreInitializer> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _retry = Task.CompletedTask;

    // The database may start after the app: then the table is created in the background with backoff (requests meanwhile
    // get 503 store-unavailable), instead of the host failing to start.
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.CreateStoreTable)
        {
            return;
        }

        try
        {
            await MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex) when (IsUnavailable(ex))
        {
            _retry = RetryAsync(_stop.Token);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _retry.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stop.Dispose();

    private static bool IsUnavailable(NpgsqlException ex)
        => ex is not PostgresException { SqlState: var state } || !SqlStates.IsSyntaxOrAccessRuleViolation(state);

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var value = options.Value;
        var dataSource = (IdempotentWritesDataSource)services.GetService(typeof(IdempotentWritesDataSource))!;
        await IdempotencyStoreSchema.MigrateAsync(dataSource.DataSource, value.SchemaName, value.TableName, cancellationToken).ConfigureAwait(false);
        logger.StoreTableReady(new StoreSql(value.SchemaName, value.TableName).Table);
    }

    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        for (var delay = TimeSpan.FromMilliseconds(500);
            !cancellationToken.IsCancellationRequested;
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks)))
        {
            try
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                await MigrateAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (NpgsqlException ex) when (IsUnavailable(ex))
            {
                // Still unreachable: try again later.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace UsersApi;

// Creates the sample's tables (in the connection's search_path) before any hosted service starts. The advisory lock
// lets several instances start at once.
public sealed class SchemaSetup(NpgsqlDataSource dataSource) : IHostedLifecycleService, IDisposable
{
    public const string Sql = """
        SELECT pg_advisory_xact_lock(4242);
        CREATE TABLE IF NOT EXISTS users (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email text NOT NULL CONSTRAINT users_email_key UNIQUE,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS payments (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id bigint NOT NULL,
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS orders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            order_number text NOT NULL CONSTRAINT orders_order_number_key UNIQUE,
            user_id bigint NOT NULL,
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS outbox (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            topic text NOT NULL,
            payload jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        """;

    private readonly CancellationTokenSource _stop = new();
    private Task _retry = Task.CompletedTask;

    // The database may start after the app (compose, Kubernetes): then the tables are created in the background, retrying
    // with backoff, and requests meanwhile get 503 problem+json from the writer instead of a crashed process.
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CreateAsync(cancellationToken);
        }
        catch (NpgsqlException ex) when (ex is not PostgresException { SqlState: var state } || !state.StartsWith("42", StringComparison.Ordinal))
        {
            _retry = RetryAsync(_stop.Token);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _retry.WaitAsync(cancellationToken);
    }

    public void Dispose() => _stop.Dispose();

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(Sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        for (var delay = TimeSpan.FromMilliseconds(500); !cancellationToken.IsCancellationRequested; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks)))
        {
            try
            {
                await Task.Delay(delay, cancellationToken);
                await CreateAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException ex) when (ex is not PostgresException { SqlState: var state } || !state.StartsWith("42", StringComparison.Ordinal))
            {
                // Not reachable yet (or credentials / database not ready): try again. An error in the script itself (42xxx)
                // ends the loop loudly instead.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

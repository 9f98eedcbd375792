// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using Npgsql;

namespace IdempotentWrites.Internal;

// Adaptive insert-or-get: per table, send the re-select first when most keys already exist (see InsertOrGetStrategy).
internal sealed partial class IdempotentWriter
{
    private readonly ConcurrentDictionary<WritePlan, InsertOrGetStrategy> _strategies = new();

    internal InsertOrGetStrategy StrategyOf(WritePlan plan)
        => _strategies.TryGetValue(plan, out var strategy) ? strategy : _strategies.GetOrAdd(plan, static _ => new InsertOrGetStrategy());

    // The SELECT alone: the stored row (Existing), or null on a miss, after which the caller sends the insert-first batch
    // exactly as without this step, so a miss stays race-safe (a concurrent insert is met by ON CONFLICT and the batch's
    // own re-select). Inside a caller's transaction it runs under the same savepoint as every other statement, so an
    // error (a statement timeout, a cancellation) cannot abort the caller's transaction.
    private async Task<WriteResult<T>?> SelectFirstAsync<T>(WritePlan plan, object?[] values, NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
        where T : class
    {
        using var batch = new NpgsqlBatch(connection, transaction);
        if (transaction is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SAVEPOINT {Savepoint}"));
        }

        var select = new NpgsqlBatchCommand(plan.ReselectSql);
        AddParameters(plan, select.Parameters, values, plan.ReselectParameters);
        batch.BatchCommands.Add(select);
        if (transaction is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"RELEASE SAVEPOINT {Savepoint}"));
        }

        try
        {
            if (_prepare)
            {
                await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }

            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? new WriteResult<T>(WriteOutcome.Existing, (T)Materialize(plan, reader, WriteOutcome.Existing), 1)
                    : null;
            }
        }
        catch (PostgresException ex)
        {
            if (transaction is not null)
            {
                await RollbackToSavepointAsync(connection, transaction, plan).ConfigureAwait(false);
            }

            throw await TranslateAsync(ex, transaction is null ? connection : null, plan, values, cancellationToken).ConfigureAwait(false);
        }
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using Npgsql;

namespace IdempotentWrites;

/// <summary>
/// Creates and maintains the PostgreSQL table of the <c>Idempotency-Key</c> store of <c>IdempotentWrites.AspNetCore</c>:
/// what <c>iw idempotency migrate</c> and <c>iw idempotency purge</c> run, and what the middleware runs at startup when
/// <c>HttpIdempotencyOptions.CreateStoreTable</c> is set. It lives in this package so that a deployment job or a tool can
/// manage the table without the ASP.NET Core runtime.
/// </summary>
public static class IdempotencyStoreSchema
{
    // Serializes concurrent migrations (two instances starting at once): CREATE TABLE IF NOT EXISTS alone can still fail
    // with a duplicate pg_type row when two sessions create the same table at the same moment.
    private const long MigrationLockId = 0x49_57_49_44_45_4D_50; // "IWIDEMP"

    /// <summary>
    /// Returns the SQL that creates the key store table and its index if they do not exist.
    /// </summary>
    /// <param name="schemaName">The schema; <see langword="null"/> for the connection's <c>search_path</c>. Taken literally and quoted.</param>
    /// <param name="tableName">The table name, taken literally and quoted.</param>
    /// <returns>The SQL script (idempotent: <c>CREATE TABLE IF NOT EXISTS</c>, <c>CREATE INDEX IF NOT EXISTS</c>).</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="tableName"/> is blank, or
    /// <paramref name="schemaName"/> is empty or blank.</exception>
    public static string GetCreateScript(string? schemaName, string tableName) => Validated(schemaName, tableName).CreateScript;

    /// <summary>
    /// Creates the key store table and its index if they do not exist, in one transaction under an advisory lock so
    /// that several instances can run it at once.
    /// </summary>
    /// <param name="dataSource">The data source of the database.</param>
    /// <param name="schemaName">The schema; <see langword="null"/> for the connection's <c>search_path</c>.</param>
    /// <param name="tableName">The table name.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>A task that completes when the table exists.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="dataSource"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="tableName"/> is blank, or
    /// <paramref name="schemaName"/> is empty or blank.</exception>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, string? schemaName, string tableName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var script = GetCreateScript(schemaName, tableName);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLockId}); {script}", connection, transaction);
                await using (command.ConfigureAwait(false))
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Deletes expired keys in batches until none is left, skipping rows locked by a concurrent purge.
    /// </summary>
    /// <param name="dataSource">The data source of the database.</param>
    /// <param name="schemaName">The schema; <see langword="null"/> for the connection's <c>search_path</c>.</param>
    /// <param name="tableName">The table name.</param>
    /// <param name="batchSize">The largest number of keys one statement deletes.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>The number of keys deleted.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="dataSource"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="tableName"/> is blank, or
    /// <paramref name="schemaName"/> is empty or blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="batchSize"/> is not positive.</exception>
    public static async Task<long> PurgeExpiredAsync(
        NpgsqlDataSource dataSource,
        string? schemaName,
        string tableName,
        int batchSize,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var sql = Validated(schemaName, tableName).Purge;
        long total = 0;
        int deleted;
        do
        {
            var command = dataSource.CreateCommand(sql);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
                deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            total += deleted;
        }
        while (deleted == batchSize);
        return total;
    }

    private static StoreSql Validated(string? schemaName, string tableName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        if (schemaName is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(schemaName);
        }

        return new StoreSql(schemaName, tableName);
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Npgsql;

namespace IdempotentWrites.Internal;

// Bulk operations on mapped rows: binary COPY into a staging table, then one classifying INSERT … SELECT per chunk.
internal sealed partial class IdempotentWriter
{
    public const string InsertManyOperation = "insert_many";
    public const string UpsertManyOperation = "upsert_many";
    public const string PreviewOperation = "preview_conflicts";

    private readonly ConcurrentDictionary<Type, Lazy<Task<BulkTable>>> _bulkTables = new();

    public Task<BulkWriteReport<T>> InsertManyAsync<T>(IEnumerable<T> rows, BulkWriteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(InsertManyOperation, BulkMode.Insert, FromEnumerable(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> InsertManyAsync<T>(IAsyncEnumerable<T> rows, BulkWriteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(InsertManyOperation, BulkMode.Insert, NotNull(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> UpsertManyAsync<T>(IEnumerable<T> rows, BulkWriteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(UpsertManyOperation, BulkMode.Upsert, FromEnumerable(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> UpsertManyAsync<T>(IAsyncEnumerable<T> rows, BulkWriteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(UpsertManyOperation, BulkMode.Upsert, NotNull(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> PreviewConflictsAsync<T>(IEnumerable<T> rows, BulkWriteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(PreviewOperation, BulkMode.Preview, FromEnumerable(rows, cancellationToken), options, cancellationToken);
    }

    private async Task<BulkWriteReport<T>> BulkAsync<T>(string operation, BulkMode mode, IAsyncEnumerable<T> rows, BulkWriteOptions? options, CancellationToken cancellationToken)
        where T : class
    {
        options ??= new BulkWriteOptions();
        options.Validate();
        var mapping = MappingOf(typeof(T));
        using var activity = WriterTelemetry.Start(operation, mapping);
        try
        {
            var plan = await GetPlanAsync(typeof(T), cancellationToken).ConfigureAwait(false);
            var table = await GetBulkTableAsync(plan, cancellationToken).ConfigureAwait(false);
            var copy = BulkSql.CopyBinary(table);
            var engine = new BulkEngine<T>
            {
                DataSource = _dataSource,
                Pipeline = _pipeline,
                Table = table,
                Mode = mode,
                Options = options,
                Logger = _logger,
                StageAsync = (connection, chunk, first, token) => StageBinaryAsync(connection, copy, table, plan, chunk, first, token),
                Materialize = (reader, offset) => (T)Materialize(plan, reader, offset),
                TranslateAsync = (error, token) => TranslateBulkAsync(error, plan, token),
                SequenceColumns = [.. plan.Mapping.InsertColumns.Select(c => c.ColumnName)],
            };

            var report = await engine.RunAsync(rows, cancellationToken).ConfigureAwait(false);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("idempotent_writes.rows", report.RowsRead);
                activity.SetTag("idempotent_writes.inserted", report.Inserted);
                activity.SetTag("idempotent_writes.chunks", report.Chunks);
            }

            return report;
        }
        catch (Exception ex) when (activity is not null)
        {
            activity.SetTag("error.type", WriterTelemetry.ErrorType(ex.InnerException is not null && ex is BulkWriteException ? ex.InnerException : ex));
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    private Task<BulkTable> GetBulkTableAsync(WritePlan plan, CancellationToken cancellationToken)
    {
        var lazy = _bulkTables.GetOrAdd(plan.Mapping.RowType, _ => new Lazy<Task<BulkTable>>(() => ResolveBulkTableAsync(plan)));
        if (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            // A failed catalog read (server down) is not cached: this call reads again.
            _bulkTables.TryRemove(new KeyValuePair<Type, Lazy<Task<BulkTable>>>(plan.Mapping.RowType, lazy));
            lazy = _bulkTables.GetOrAdd(plan.Mapping.RowType, _ => new Lazy<Task<BulkTable>>(() => ResolveBulkTableAsync(plan)));
        }

        return lazy.Value.WaitAsync(cancellationToken);
    }

    private async Task<BulkTable> ResolveBulkTableAsync(WritePlan plan)
    {
        var mapping = plan.Mapping;
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var types = await BulkCatalog.ReadCopyTypesAsync(connection, mapping.QualifiedName, CancellationToken.None).ConfigureAwait(false);
            return new BulkTable
            {
                Schema = mapping.Schema,
                Table = mapping.Table,
                Columns = [.. mapping.InsertColumns.Select(c => new BulkColumn(c.ColumnName, types[c.ColumnName]))],
                Keys = [.. plan.Keys.Select(k => k.Column?.QuotedName ?? k.Expression!)],
                ArbiterClause = SqlGenerator.ArbiterClause(mapping.Conflict),
                Predicate = plan.Predicate,
                NullsNotDistinct = plan.NullsNotDistinct,
                UpdateColumns = [.. UpdateColumnsOf(plan).Select(c => c.QuotedName)],
                ReturningColumns = [.. mapping.Columns.Select(c => c.QuotedName)],
            };
        }
    }

    // A chunk's error names a constraint but no single row: translated without values, on its own connection.
    private async Task<Exception> TranslateBulkAsync(PostgresException error, WritePlan plan, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await _errors.TranslateAsync(error, connection, plan.Mapping, null, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IEnumerable<ColumnMapping> UpdateColumnsOf(WritePlan plan)
    {
        var keyColumns = plan.Keys.Where(k => k.Column is not null).Select(k => k.Column!).ToHashSet();
        return (plan.Mapping.UpdateColumns ?? plan.Mapping.InsertColumns.Where(c => !keyColumns.Contains(c)))
            .Where(c => !c.IsGenerated);
    }

    private static async Task StageBinaryAsync<T>(NpgsqlConnection connection, string copy, BulkTable table, WritePlan plan, IReadOnlyList<T> chunk, long first, CancellationToken cancellationToken)
        where T : class
    {
        var columns = plan.Mapping.InsertColumns;
        var importer = await connection.BeginBinaryImportAsync(copy, cancellationToken).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            for (var i = 0; i < chunk.Count; i++)
            {
                var row = chunk[i];
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(first + i, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                for (var c = 0; c < columns.Count; c++)
                {
                    var value = ToParameterValue(columns[c].GetValue(row));
                    if (value is DBNull)
                    {
                        await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await importer.WriteAsync(value, table.Columns[c].DataTypeName, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static object Materialize(WritePlan plan, NpgsqlDataReader reader, int offset)
    {
        var values = new object?[plan.Mapping.Columns.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(offset + i) ? null : reader.GetValue(offset + i);
        }

        return plan.Mapping.Materialize(values);
    }

    private static async IAsyncEnumerable<T> FromEnumerable<T>(IEnumerable<T> rows, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        await Task.CompletedTask.ConfigureAwait(false);
        long position = 0;
        foreach (var row in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return row ?? throw new ArgumentException($"The input holds a null row at position {position:N0}.", nameof(rows));
            position++;
        }
    }

    private static async IAsyncEnumerable<T> NotNull<T>(IAsyncEnumerable<T> rows, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        long position = 0;
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return row ?? throw new ArgumentException($"The input holds a null row at position {position:N0}.", nameof(rows));
            position++;
        }
    }
}

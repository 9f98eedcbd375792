// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using IdempotentWrites.Internal.Bulk;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Postgres;
using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// Bulk operations on mapped rows: binary COPY into a staging table, then one classifying INSERT … SELECT per chunk.
internal sealed partial class IdempotentWriter
{
    public const string InsertManyOperation = "insert_many";
    public const string UpsertManyOperation = "upsert_many";
    public const string PreviewOperation = "preview_conflicts";

    private readonly ConcurrentDictionary<WritePlan, BulkTable> _bulkTables = new();

    public Task<BulkWriteReport<T>> InsertManyAsync<T>(
        IEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(InsertManyOperation, BulkMode.Insert, FromEnumerable(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> InsertManyAsync<T>(
        IAsyncEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(InsertManyOperation, BulkMode.Insert, NotNull(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> UpsertManyAsync<T>(
        IEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(UpsertManyOperation, BulkMode.Upsert, FromEnumerable(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> UpsertManyAsync<T>(
        IAsyncEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(UpsertManyOperation, BulkMode.Upsert, NotNull(rows, cancellationToken), options, cancellationToken);
    }

    public Task<BulkWriteReport<T>> PreviewConflictsAsync<T>(
        IEnumerable<T> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        return BulkAsync(PreviewOperation, BulkMode.Preview, FromEnumerable(rows, cancellationToken), options, cancellationToken);
    }

    private async Task<BulkWriteReport<T>> BulkAsync<T>(
        string operation,
        BulkMode mode,
        IAsyncEnumerable<T> rows,
        BulkWriteOptions? options,
        CancellationToken cancellationToken)
        where T : class
    {
        options ??= new BulkWriteOptions();
        options.Validate();
        if (mode != BulkMode.Preview)
        {
            ThrowIfAmbient(mode == BulkMode.Upsert ? nameof(UpsertManyAsync) : nameof(InsertManyAsync));
        }

        var mapping = MappingOf(typeof(T));
        using var activity = WriterTelemetry.Start(operation, mapping);
        try
        {
            var plan = await GetPlanAsync(typeof(T), cancellationToken).ConfigureAwait(false);
            var table = GetBulkTable(plan);
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
                Materialize = (reader, offset) => (T)RowReader.Read(plan, reader, WriteOutcome.Inserted, offset),
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
            activity.SetTag(
                "error.type",
                WriterTelemetry.ErrorType(ex.InnerException is not null && ex is BulkWriteException ? ex.InnerException : ex));
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    // The bulk view of a plan: column types come from the plan's codecs, so no catalog read of its own.
    private BulkTable GetBulkTable(WritePlan plan)
        => _bulkTables.TryGetValue(plan, out var table) ? table : _bulkTables.GetOrAdd(plan, CreateBulkTable);

    private static BulkTable CreateBulkTable(WritePlan plan)
    {
        var mapping = plan.Mapping;
        return new BulkTable
        {
            Schema = mapping.Schema,
            Table = mapping.Table,
            Columns = [.. plan.Codecs.Insert.Select(c => new BulkColumn(c.Column.ColumnName, c.CopyTypeName))],
            Keys = [.. plan.Keys.Select(k => k.Column?.QuotedName ?? k.Expression!)],
            ArbiterClause = SqlGenerator.ArbiterClause(mapping.Conflict),
            Predicate = plan.Predicate,
            NullsNotDistinct = plan.NullsNotDistinct,
            ProbeFirst = !plan.NullsNotDistinct
                && plan.Facts is { BeforeInsertTriggers.Count: 0, RowSecurity: false, CanReadSystemColumns: true, Partitioned: false },
            UpdateColumns = [.. UpdateColumnsOf(plan).Select(c => c.QuotedName)],
            ReturningColumns = [.. plan.Codecs.All.Select(c => c.Select)],
        };
    }

    // A chunk's error names a constraint but no single row: translated without values, on its own connection.
    private async Task<Exception> TranslateBulkAsync(PostgresException error, WritePlan plan, CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(_dataSource, cancellationToken).ConfigureAwait(false);
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

    private static async Task StageBinaryAsync<T>(
        NpgsqlConnection connection,
        string copy,
        BulkTable table,
        WritePlan plan,
        IReadOnlyList<T> chunk,
        long first,
        CancellationToken cancellationToken)
        where T : class
    {
        var columns = plan.Mapping.InsertColumns;
        var codecs = plan.Codecs.Insert;
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
                    var value = codecs[c].ToParameter(columns[c].GetValue(row));
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

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Sequences;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;

namespace IdempotentWrites.Internal.Bulk;

internal enum BulkMode
{
    Insert,
    Upsert,
    Preview,
}

// Runs a bulk operation chunk by chunk. Each chunk is one transaction on a pooled connection: stage (COPY) into a
// temporary table dropped at commit (so it also works through PgBouncer in transaction mode), one classifying write
// statement, commit. A transient fault retries the chunk (it is idempotent); any other error stops the run with the
// committed chunks reported. A preview runs every chunk in one transaction that is rolled back.
internal sealed class BulkEngine<TRow>
{
    public required NpgsqlDataSource DataSource { get; init; }

    public required ResiliencePipeline Pipeline { get; init; }

    public required BulkTable Table { get; init; }

    public required BulkMode Mode { get; init; }

    public required BulkWriteOptions Options { get; init; }

    public required ILogger Logger { get; init; }

    // Writes a chunk into the staging table, iw_ord numbering from the given first ordinal.
    public required Func<NpgsqlConnection, IReadOnlyList<TRow>, long, CancellationToken, Task> StageAsync { get; init; }

    // Builds a row from the returned columns, which start at the given ordinal (for WrittenRows).
    public Func<NpgsqlDataReader, int, TRow>? Materialize { get; init; }

    // Turns a PostgreSQL error of a chunk into the SDK's typed exception (or returns it unchanged).
    public Func<PostgresException, CancellationToken, Task<Exception>>? TranslateAsync { get; init; }

    // Columns whose sequences are synchronised after rows were written with explicit values.
    public IReadOnlyList<string> SequenceColumns { get; init; } = [];

    public async Task<BulkWriteReport<TRow>> RunAsync(IAsyncEnumerable<TRow> rows, CancellationToken cancellationToken)
    {
        Options.Validate();
        var started = Stopwatch.GetTimestamp();
        var state = new RunState(new BulkWriteReport<TRow> { Table = Table.DisplayName, IsPreview = Mode == BulkMode.Preview });
        var returnRows = Options.ReturnRows && Mode != BulkMode.Preview && Materialize is not null;
        NpgsqlConnection? previewConnection = null;
        NpgsqlTransaction? previewTransaction = null;
        try
        {
            if (Mode == BulkMode.Preview)
            {
                previewConnection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                previewTransaction = await previewConnection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            }

            var buffer = new List<TRow>(Math.Min(Options.ChunkSize, 65_536));
            var enumerator = rows.GetAsyncEnumerator(cancellationToken);
            await using (enumerator.ConfigureAwait(false))
            {
                while (true)
                {
                    buffer.Clear();
                    try
                    {
                        while (buffer.Count < Options.ChunkSize && await enumerator.MoveNextAsync().ConfigureAwait(false))
                        {
                            buffer.Add(enumerator.Current);
                        }
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        throw await CanceledAsync(state, started, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The rows read since the last chunk are discarded, never half-written.
                        throw await FailedAsync(
                            state,
                            started,
                            $"Reading the input failed after row {state.Report.RowsRead:N0}: {ex.Message}",
                            null,
                            ex).ConfigureAwait(false);
                    }

                    if (buffer.Count == 0)
                    {
                        break;
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw await CanceledAsync(state, started, cancellationToken).ConfigureAwait(false);
                    }

                    var first = state.Report.RowsRead;
                    ChunkResult result;
                    try
                    {
                        result = Mode == BulkMode.Preview
                            ? await PreviewChunkAsync(previewConnection!, state, buffer, first, cancellationToken).ConfigureAwait(false)
                            : await WriteChunkAsync(state, buffer, first, returnRows).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        throw await CanceledAsync(state, started, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Whatever failed (the server, a value the driver cannot write, the staging callback), the chunk's
                        // transaction rolled back: report the committed chunks with the cause.
                        var cause = ex is PostgresException postgres ? await TranslateChunkErrorAsync(postgres).ConfigureAwait(false) : ex;
                        var message = $"Chunk {state.Report.Chunks + 1:N0} (input rows {first:N0} to " +
                            $"{first + buffer.Count - 1:N0}) failed and was rolled back: {cause.Message}";
                        throw await FailedAsync(
                            state,
                            started,
                            message,
                            (ex as PostgresException)?.SqlState ?? (cause as IdempotentWritesException)?.SqlState,
                            cause,
                            first).ConfigureAwait(false);
                    }

                    Apply(state, result, buffer);
                    state.Report.Elapsed = Stopwatch.GetElapsedTime(started);
                    Logger.BulkChunkCommitted(Table.DisplayName, state.Report.Chunks, buffer.Count, result.Inserted + result.Updated);
                    Options.Progress?.Report(state.Report.Snapshot());
                    if (buffer.Count < Options.ChunkSize)
                    {
                        break;
                    }
                }
            }

            await SynchronizeSequencesAsync(state, CancellationToken.None).ConfigureAwait(false);
            state.Report.Elapsed = Stopwatch.GetElapsedTime(started);
            state.Finish();
            Logger.BulkCompleted(
                Table.DisplayName,
                Mode.ToString(),
                state.Report.RowsRead,
                state.Report.Inserted,
                state.Report.Updated,
                state.Report.Existing,
                state.Report.DuplicatesInInput,
                (long)state.Report.Elapsed.TotalMilliseconds);
            return state.Report;
        }
        finally
        {
            if (previewTransaction is not null)
            {
                await previewTransaction.DisposeAsync().ConfigureAwait(false);
            }

            if (previewConnection is not null)
            {
                await previewConnection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // The chunk's error as the SDK's typed exception, whether its statement or its COMMIT (deferred constraints) raised it.
    // A failed catalog lookup (server gone, pool exhausted) must not replace the violation: it is then typed without columns.
    private async Task<Exception> TranslateChunkErrorAsync(PostgresException error)
    {
        if (TranslateAsync is not null)
        {
            try
            {
                return await TranslateAsync(error, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                Logger.ConstraintLookupFailed(error.ConstraintName ?? Table.DisplayName, ex);
            }
        }

        return ErrorTranslator.TranslateWithoutCatalog(error) ?? error;
    }

    private async Task<ChunkResult> WriteChunkAsync(RunState state, List<TRow> buffer, long first, bool returnRows)
    {
        var earlier = state.Transactions.ToArray();
        var context = ResilienceContextPool.Shared.Get(Mode == BulkMode.Upsert ? "upsert_many" : "insert_many", CancellationToken.None);
        try
        {
            // Not the caller's token: a chunk that started is finished (or rolled back by an error), never abandoned half-way.
            return await Pipeline.ExecuteAsync(
                static async (context, s) => await s.Engine.WriteChunkOnceAsync(
                    s.Buffer,
                    s.First,
                    s.Earlier,
                    s.ReturnRows,
                    context.CancellationToken).ConfigureAwait(false),
                context,
                (Engine: this, Buffer: buffer, First: first, Earlier: earlier, ReturnRows: returnRows)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<ChunkResult> WriteChunkOnceAsync(
        List<TRow> buffer,
        long first,
        long[] earlier,
        bool returnRows,
        CancellationToken cancellationToken)
    {
        var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, BulkSql.CreateStage(Table), cancellationToken).ConfigureAwait(false);
                await StageAsync(connection, buffer, first, cancellationToken).ConfigureAwait(false);

                var upsert = Mode == BulkMode.Upsert && Table.UpdateColumns.Count > 0;
                var sql = upsert ? BulkSql.Upsert(Table, returnRows) : BulkSql.Insert(Table, returnRows, earlier.Length > 0);
                using var batch = new NpgsqlBatch(connection, transaction);
                var write = new NpgsqlBatchCommand(sql);
                if (!upsert && earlier.Length > 0)
                {
                    write.Parameters.Add(
                        new NpgsqlParameter { Value = earlier, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint });
                }

                batch.BatchCommands.Add(write);
                batch.BatchCommands.Add(new NpgsqlBatchCommand(BulkSql.CurrentTransaction));
                var result = new ChunkResult();
                var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    await ReadResultAsync(reader, result, first, returnRows, cancellationToken).ConfigureAwait(false);
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    result.Transaction = reader.GetInt64(0);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    private async Task<ChunkResult> PreviewChunkAsync(
        NpgsqlConnection connection,
        RunState state,
        List<TRow> buffer,
        long first,
        CancellationToken cancellationToken)
    {
        // The staging table lives as long as the preview's transaction; each chunk replaces its rows.
        if (state.Report.Chunks == 0)
        {
            await ExecuteAsync(connection, BulkSql.CreateStage(Table), cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, BulkSql.CreateSeen(Table), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ExecuteAsync(connection, $"TRUNCATE {BulkSql.Stage}", cancellationToken).ConfigureAwait(false);
        }

        await StageAsync(connection, buffer, first, cancellationToken).ConfigureAwait(false);
        var result = new ChunkResult();
        using var command = new NpgsqlCommand(BulkSql.Preview(Table), connection);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await ReadResultAsync(reader, result, first, returnRows: false, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    private async Task ReadResultAsync(NpgsqlDataReader reader, ChunkResult result, long first, bool returnRows, CancellationToken cancellationToken)
    {
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var kind = reader.GetInt32(0);
            switch (kind)
            {
                case BulkSql.KindInsertedCount:
                    result.Inserted += reader.GetInt64(1);
                    break;
                case BulkSql.KindUpdatedCount:
                    result.Updated += reader.GetInt64(1);
                    break;
                case BulkSql.KindInsertedRow or BulkSql.KindUpdatedRow when returnRows:
                    if (kind == BulkSql.KindInsertedRow)
                    {
                        result.Inserted++;
                    }
                    else
                    {
                        result.Updated++;
                    }

                    result.Written.Add(Materialize!(reader, 2));
                    break;
                default:
                    result.Skipped.Add((reader.GetInt64(1) - first, kind));
                    break;
            }
        }
    }

    private void Apply(RunState state, ChunkResult result, List<TRow> buffer)
    {
        var report = state.Report;
        report.Chunks++;
        report.RowsRead += buffer.Count;
        report.Inserted += result.Inserted;
        report.Updated += result.Updated;
        if (result.Transaction is { } transaction)
        {
            state.Transactions.Add(transaction);
        }

        // Input order within the chunk, so the reported rows are deterministic.
        result.Skipped.Sort((a, b) => a.Index.CompareTo(b.Index));
        foreach (var (index, kind) in result.Skipped)
        {
            var row = buffer[(int)index];
            switch (kind)
            {
                case BulkSql.KindExisting when Mode == BulkMode.Upsert:
                case BulkSql.KindUnchanged:
                    report.Unchanged++;
                    break;
                case BulkSql.KindExisting:
                    report.Existing++;
                    Keep(state.Existing, row);
                    break;
                case BulkSql.KindDuplicate:
                    report.DuplicatesInInput++;
                    Keep(state.Duplicates, row);
                    break;
                default:
                    throw new InvalidOperationException($"Unexpected bulk result kind {kind}.");
            }
        }

        state.Written.AddRange(result.Written);
    }

    private void Keep(List<TRow> list, TRow row)
    {
        if (list.Count < Options.MaxReportedRows)
        {
            list.Add(row);
        }
    }

    private async Task SynchronizeSequencesAsync(RunState state, CancellationToken cancellationToken)
    {
        if (!Options.SynchronizeSequences
            || Mode == BulkMode.Preview
            || state.Report.Inserted + state.Report.Updated == 0
            || SequenceColumns.Count == 0)
        {
            return;
        }

        var repairs = await SequenceRepairer.RepairColumnsAsync(
            DataSource,
            new SequenceDoctorOptions(),
            Logger,
            Table.Schema,
            Table.Table,
            SequenceColumns,
            cancellationToken).ConfigureAwait(false);
        state.Report.SequencesSynchronized = repairs.Count(r => r.Outcome == SequenceRepairOutcome.Repaired);
    }

    private async Task<BulkWriteCanceledException> CanceledAsync(RunState state, long started, CancellationToken cancellationToken)
    {
        await TrySynchronizeSequencesAsync(state).ConfigureAwait(false);
        state.Report.Elapsed = Stopwatch.GetElapsedTime(started);
        state.Finish();
        Logger.BulkStopped(Table.DisplayName, state.Report.Chunks, state.Report.RowsRead, "canceled");
        return new BulkWriteCanceledException(state.Report, cancellationToken);
    }

    private async Task<BulkWriteException> FailedAsync(
        RunState state,
        long started,
        string message,
        string? sqlState,
        Exception cause,
        long? firstFailedRow = null)
    {
        await TrySynchronizeSequencesAsync(state).ConfigureAwait(false);
        state.Report.Elapsed = Stopwatch.GetElapsedTime(started);
        state.Finish();
        Logger.BulkStopped(Table.DisplayName, state.Report.Chunks, state.Report.RowsRead, cause.GetType().Name);
        var full = state.Report.Chunks == 0
            ? message + " Nothing was written."
            : message + $" The {state.Report.Chunks:N0} chunk(s) before it are committed " +
                $"({state.Report.RowsRead:N0} input rows); running the same import again is safe.";
        return new BulkWriteException(full, state.Report, firstFailedRow ?? state.Report.RowsRead, sqlState, cause);
    }

    private async Task TrySynchronizeSequencesAsync(RunState state)
    {
        try
        {
            await SynchronizeSequencesAsync(state, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IdempotentWritesException or InvalidOperationException)
        {
            Logger.BulkSequenceSyncFailed(Table.DisplayName, ex);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class ChunkResult
    {
        public long Inserted { get; set; }

        public long Updated { get; set; }

        public long? Transaction { get; set; }

        public List<(long Index, int Kind)> Skipped { get; } = [];

        public List<TRow> Written { get; } = [];
    }

    private sealed class RunState(BulkWriteReport<TRow> report)
    {
        public BulkWriteReport<TRow> Report { get; } = report;

        public List<long> Transactions { get; } = [];

        public List<TRow> Existing { get; } = [];

        public List<TRow> Duplicates { get; } = [];

        public List<TRow> Written { get; } = [];

        public void Finish()
        {
            Report.ExistingRows = Existing;
            Report.DuplicateRows = Duplicates;
            Report.WrittenRows = Written;
        }
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Sequences;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Polly;

namespace IdempotentWrites.Internal.Bulk;

internal enum BulkMode
{
    Insert,
    Upsert,
    Preview,
}

// Runs a bulk operation chunk by chunk. Each chunk is one transaction on a pooled connection: stage (COPY) into a
// temporary table dropped at commit (so it also works through PgBouncer in transaction mode), one write statement,
// commit. Two chunks are in flight: while one writes, the next is read and staged on a second connection, and writes only
// once the one before it committed, so the committed chunks are always a prefix of the input (a re-run resumes safely).
// After a chunk that skipped nothing, the next one first tries a plain INSERT (no ON CONFLICT); after one that skipped rows,
// the next one looks its keys up while it waits (probe) and writes the rows not found with a plain INSERT. Either is written
// again with the classifying statement when it meets any unique violation. A transient fault retries the chunk (it is idempotent);
// any other error stops the run with the committed chunks reported. A preview runs every chunk in one transaction that
// is rolled back.
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

    // An upsert that updates: the ranked statement (last row of a key wins), never the plain INSERT.
    private bool Classifies => Mode == BulkMode.Upsert && Table.UpdateColumns.Count > 0;

    // Whether a chunk may look its keys up while the chunk before writes, then write with a plain INSERT (BulkSql.CreateProbe).
    private bool CanProbe => Table.ProbeFirst && Mode != BulkMode.Preview && !Classifies;

    // How each ChunkWrite is named in the BulkChunkCommitted log.
    private static readonly string[] WriteNames = ["classified", "plain insert", "looked up, plain insert"];

    // How a chunk of a write in chunks is written (see BulkSql): the classifying statement, the plain INSERT after a chunk
    // that skipped nothing, or the plain INSERT of the rows a probe did not find (both fall back to the first).
    private enum ChunkWrite
    {
        Classified,
        Plain,
        Probed,
    }

    public async Task<BulkWriteReport<TRow>> RunAsync(IAsyncEnumerable<TRow> rows, CancellationToken cancellationToken)
    {
        Options.Validate();
        var started = Stopwatch.GetTimestamp();
        var state = new RunState(new BulkWriteReport<TRow> { Table = Table.DisplayName, IsPreview = Mode == BulkMode.Preview });
        var returnRows = Options.ReturnRows && Mode != BulkMode.Preview && Materialize is not null;
        // A preview, and a write in one transaction, hold one connection and transaction for the whole run.
        var single = Mode == BulkMode.Preview || Options.SingleTransaction;
        NpgsqlConnection? session = null;
        NpgsqlTransaction? sessionTransaction = null;
        Task? inFlight = null;
        try
        {
            if (single)
            {
                session = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                sessionTransaction = await session.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            }

            var enumerator = rows.GetAsyncEnumerator(cancellationToken);
            await using (enumerator.ConfigureAwait(false))
            {
                while (true)
                {
                    var buffer = new List<TRow>(Math.Min(Options.ChunkSize, 65_536));
                    try
                    {
                        while (buffer.Count < Options.ChunkSize && await enumerator.MoveNextAsync().ConfigureAwait(false))
                        {
                            buffer.Add(enumerator.Current);
                        }
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        await SettleAsync(inFlight, state, started).ConfigureAwait(false);
                        throw await CanceledAsync(state, started, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The rows read since the last chunk are discarded, never half-written.
                        await SettleAsync(inFlight, state, started).ConfigureAwait(false);
                        throw await FailedAsync(
                            state,
                            started,
                            $"Reading the input failed after row {state.Read:N0}: {ex.Message}",
                            null,
                            ex,
                            state.Read).ConfigureAwait(false);
                    }

                    if (buffer.Count == 0)
                    {
                        break;
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        await SettleAsync(inFlight, state, started).ConfigureAwait(false);
                        throw await CanceledAsync(state, started, cancellationToken).ConfigureAwait(false);
                    }

                    var first = state.Read;
                    state.Read += buffer.Count;
                    if (session is not null)
                    {
                        // One chunk after the other, on the one connection.
                        var held = (session, sessionTransaction!);
                        var sequential = ChunkAsync(state, buffer, first, null, held, started, returnRows, cancellationToken);
                        await SettleAsync(sequential, state, started).ConfigureAwait(false);
                        continue;
                    }

                    // This chunk stages now and writes once the one in flight has committed; meanwhile the next is read.
                    var chunk = ChunkAsync(state, buffer, first, inFlight, null, started, returnRows, cancellationToken);
                    if (inFlight is not null)
                    {
                        await SettleAsync(inFlight, state, started, chunk).ConfigureAwait(false);
                    }

                    inFlight = chunk;
                    if (buffer.Count < Options.ChunkSize)
                    {
                        break;
                    }
                }
            }

            if (inFlight is not null)
            {
                await SettleAsync(inFlight, state, started).ConfigureAwait(false);
            }

            if (Options.SingleTransaction && Mode != BulkMode.Preview)
            {
                try
                {
                    await sessionTransaction!.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                    state.Committed = true;
                }
                catch (Exception ex) when (ex is NpgsqlException)
                {
                    state.RollBack();
                    var cause = ex is PostgresException postgres ? await TranslateChunkErrorAsync(postgres).ConfigureAwait(false) : ex;
                    throw await FailedAsync(state, started, $"The commit failed: {cause.Message}", (ex as PostgresException)?.SqlState, cause, 0)
                        .ConfigureAwait(false);
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
        catch (OperationCanceledException ex) when (ex is not BulkWriteCanceledException && cancellationToken.IsCancellationRequested)
        {
            // A chunk that was only staged when the caller canceled: it wrote nothing.
            throw await CanceledAsync(state, started, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (sessionTransaction is not null)
            {
                await sessionTransaction.DisposeAsync().ConfigureAwait(false);
            }

            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // Waits for a chunk in flight. Its failure stops the run: the chunk staged after it (next) then writes nothing, and is
    // waited for too, so no transaction of this run is left open when the report is made.
    private async Task SettleAsync(Task? chunk, RunState state, long started, Task? next = null)
    {
        if (chunk is null)
        {
            return;
        }

        try
        {
            await chunk.ConfigureAwait(false);
        }
        catch (ChunkFailedException failed)
        {
            await IgnoreAsync(next).ConfigureAwait(false);
            var ex = failed.InnerException!;
            var cause = ex is PostgresException postgres ? await TranslateChunkErrorAsync(postgres).ConfigureAwait(false) : ex;
            var message = $"Chunk {state.Report.Chunks + 1:N0} (input rows {failed.First:N0} to " +
                $"{failed.First + failed.Count - 1:N0}) failed and was rolled back: {cause.Message}";
            throw await FailedAsync(
                state,
                started,
                message,
                (ex as PostgresException)?.SqlState ?? (cause as IdempotentWritesException)?.SqlState,
                cause,
                failed.First).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Canceled before it wrote: nothing of it is committed.
            await IgnoreAsync(next).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task IgnoreAsync(Task? chunk)
    {
        if (chunk is null)
        {
            return;
        }

        try
        {
            await chunk.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChunkFailedException or OperationCanceledException)
        {
            // It wrote nothing: the chunk before it had already stopped the run.
        }
    }

    // One chunk: staged at once, written after the previous chunk committed, then added to the report (so the report's
    // updates happen in input order, one chunk after the other).
    private async Task ChunkAsync(
        RunState state,
        List<TRow> buffer,
        long first,
        Task? previous,
        (NpgsqlConnection Connection, NpgsqlTransaction Transaction)? session,
        long started,
        bool returnRows,
        CancellationToken cancellationToken)
    {
        ChunkResult result;
        try
        {
            result = session is not { } held
                ? await WriteChunkAsync(state, buffer, first, previous, returnRows, cancellationToken).ConfigureAwait(false)
                : Mode == BulkMode.Preview
                    ? await PreviewChunkAsync(held.Connection, state, buffer, first, cancellationToken).ConfigureAwait(false)
                    : await SessionChunkAsync(held.Connection, held.Transaction, state, buffer, first, returnRows, cancellationToken)
                        .ConfigureAwait(false);
        }
        catch (PreviousChunkFailedException)
        {
            throw new OperationCanceledException();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever failed (the server, a value the driver cannot write, the staging callback), the chunk's transaction
            // rolled back.
            throw new ChunkFailedException(first, buffer.Count, ex);
        }

        Apply(state, result, buffer, first);
        state.Report.Elapsed = Stopwatch.GetElapsedTime(started);
        var written = result.Inserted + result.Updated;
        Logger.BulkChunkCommitted(Table.DisplayName, state.Report.Chunks, buffer.Count, written, WriteNames[(int)result.Write]);
        Options.Progress?.Report(state.Report.Snapshot());
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

    private async Task<ChunkResult> WriteChunkAsync(
        RunState state,
        List<TRow> buffer,
        long first,
        Task? previous,
        bool returnRows,
        CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(Mode == BulkMode.Upsert ? "upsert_many" : "insert_many", CancellationToken.None);
        try
        {
            // Not the caller's token: a chunk that started writing is finished (or rolled back by an error, the pipeline's
            // timeout included), never abandoned half-way. The caller's token only stops a chunk that has not started writing.
            return await Pipeline.ExecuteAsync(
                static async (context, s) => await s.Engine.WriteChunkOnceAsync(
                    s.State,
                    s.Buffer,
                    s.First,
                    s.Previous,
                    s.ReturnRows,
                    s.Token,
                    context.CancellationToken).ConfigureAwait(false),
                context,
                (Engine: this, State: state, Buffer: buffer, First: first, Previous: previous, ReturnRows: returnRows, Token: cancellationToken))
                .ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<ChunkResult> WriteChunkOnceAsync(
        RunState state,
        List<TRow> buffer,
        long first,
        Task? previous,
        bool returnRows,
        CancellationToken cancellationToken,
        CancellationToken timeout)
    {
        var connection = await DataSource.OpenConnectionAsync(timeout).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            for (var optimistic = true; ; optimistic = false)
            {
                var probe = optimistic && CanProbe && !returnRows && state.ShouldProbe((int)(first / Options.ChunkSize));
                var transaction = await connection.BeginTransactionAsync(timeout).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    await ExecuteAsync(connection, BulkSql.CreateStage(Table), timeout).ConfigureAwait(false);
                    await StageAsync(connection, buffer, first, timeout).ConfigureAwait(false);
                    if (probe)
                    {
                        await ExecuteAsync(connection, BulkSql.CreateProbe(Table), timeout).ConfigureAwait(false);
                    }

                    if (previous is not null)
                    {
                        try
                        {
                            await previous.ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is ChunkFailedException or OperationCanceledException or PreviousChunkFailedException)
                        {
                            throw new PreviousChunkFailedException();
                        }
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    var write = probe ? ChunkWrite.Probed
                        : optimistic && !Classifies && !returnRows && state.Report.Chunks > 0 && state.LastChunkSkipped == 0 ? ChunkWrite.Plain
                        : ChunkWrite.Classified;
                    ChunkResult result;
                    try
                    {
                        result = await WriteStagedAsync(connection, transaction, state, buffer, first, write, returnRows, timeout)
                            .ConfigureAwait(false);
                    }
                    catch (PostgresException ex) when (write != ChunkWrite.Classified && ex.SqlState == PostgresErrorCodes.UniqueViolation)
                    {
                        // A key exists, repeats in the chunk, or a concurrent writer took it: write the chunk again, classified.
                        await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                        Logger.BulkChunkRewritten(Table.DisplayName, state.Report.Chunks + 1);
                        continue;
                    }

                    if (write != ChunkWrite.Classified && result.Inserted + result.Existing + result.Duplicates != buffer.Count)
                    {
                        // A BEFORE INSERT trigger skipped rows, or a row the probe found changed or vanished since: classified,
                        // every row is counted.
                        await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                        Logger.BulkChunkRewritten(Table.DisplayName, state.Report.Chunks + 1);
                        continue;
                    }

                    await transaction.CommitAsync(timeout).ConfigureAwait(false);
                    result.Write = write;
                    return result;
                }
            }
        }
    }

    // A chunk of a write in one transaction: staged into the run's staging table (emptied per chunk), written, not committed.
    // Never the plain INSERT: its unique violation would abort the whole transaction.
    private async Task<ChunkResult> SessionChunkAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        RunState state,
        List<TRow> buffer,
        long first,
        bool returnRows,
        CancellationToken cancellationToken)
    {
        await ExecuteAsync(
            connection,
            state.Report.Chunks == 0 ? BulkSql.CreateStage(Table) : $"TRUNCATE {BulkSql.Stage}",
            cancellationToken).ConfigureAwait(false);
        await StageAsync(connection, buffer, first, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return await WriteStagedAsync(connection, transaction, state, buffer, first, ChunkWrite.Classified, returnRows, CancellationToken.None)
            .ConfigureAwait(false);
    }

    // The write of a staged chunk (under the table's advisory lock) and the transaction id it wrote under; not committed.
    private async Task<ChunkResult> WriteStagedAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        RunState state,
        List<TRow> buffer,
        long first,
        ChunkWrite write,
        bool returnRows,
        CancellationToken timeout)
    {
        // Read after the previous chunk was added to the report: the transaction ids, and what is still reported.
        var classify = Classifies;
        var earlier = state.Transactions.ToArray();
        var existingLeft = Math.Max(0, Options.MaxReportedRows - state.Existing.Count);
        var duplicatesLeft = Math.Max(0, Options.MaxReportedRows - state.Duplicates.Count);
        using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(BulkSql.Lock) { Parameters = { new() { Value = Table.QualifiedName } } });
        var statement = new NpgsqlBatchCommand(write switch
        {
            ChunkWrite.Plain => BulkSql.InsertPlain(Table),
            ChunkWrite.Probed => BulkSql.InsertProbed(Table),
            _ => classify ? BulkSql.Upsert(Table, returnRows) : BulkSql.Insert(Table, returnRows, earlier.Length > 0),
        });
        batch.BatchCommands.Add(statement);
        if (write == ChunkWrite.Probed)
        {
            var report = new NpgsqlBatchCommand(BulkSql.ProbeReport);
            AddReportParameters(report, earlier, existingLeft, duplicatesLeft);
            batch.BatchCommands.Add(report);
        }
        else if (classify)
        {
            statement.Parameters.Add(new NpgsqlParameter<int> { TypedValue = duplicatesLeft });
        }
        else if (write == ChunkWrite.Classified)
        {
            AddReportParameters(statement, earlier, existingLeft, duplicatesLeft);
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = buffer.Count });
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand(BulkSql.CurrentTransaction));
        var result = new ChunkResult();
        var reader = await batch.ExecuteReaderAsync(timeout).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (write != ChunkWrite.Plain)
            {
                await reader.NextResultAsync(timeout).ConfigureAwait(false);
                await ReadResultAsync(reader, result, first, returnRows, perRow: false, timeout).ConfigureAwait(false);
            }

            await reader.NextResultAsync(timeout).ConfigureAwait(false);
            await reader.ReadAsync(timeout).ConfigureAwait(false);
            result.Transaction = reader.GetInt64(0);
        }

        if (write != ChunkWrite.Classified)
        {
            result.Inserted = statement.RecordsAffected;
        }
        else if (!classify)
        {
            // Rows the statement skipped whose key it wrote itself: later occurrences in the chunk. (Never below 0, even when
            // a BEFORE INSERT trigger changed a key, so that its row counts as both inserted and existing.)
            result.Duplicates += Math.Max(0, buffer.Count - result.Inserted - result.Existing - result.Duplicates);
        }

        return result;
    }

    // $1 the transaction ids of this import's earlier chunks, $2 and $3 how many existing and duplicate rows are still reported.
    private static void AddReportParameters(NpgsqlBatchCommand command, long[] earlier, int existingLeft, int duplicatesLeft)
    {
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = earlier, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = existingLeft });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = duplicatesLeft });
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
            await ReadResultAsync(reader, result, first, returnRows: false, perRow: true, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    // Count rows (Kind >= CountOffset) add to the totals; single rows are kept for the report (perRow: each also counts).
    private async Task ReadResultAsync(
        NpgsqlDataReader reader,
        ChunkResult result,
        long first,
        bool returnRows,
        bool perRow,
        CancellationToken cancellationToken)
    {
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var kind = reader.GetInt32(0);
            if (kind >= BulkSql.CountOffset)
            {
                result.Add(kind - BulkSql.CountOffset, reader.GetInt64(1));
            }
            else if (kind is BulkSql.KindInsertedRow or BulkSql.KindUpdatedRow)
            {
                result.Add(kind, 1);
                if (returnRows)
                {
                    result.Written.Add(Materialize!(reader, 2));
                }
            }
            else
            {
                if (perRow)
                {
                    result.Add(kind, 1);
                }

                result.Skipped.Add((reader.GetInt64(1) - first, kind));
            }
        }
    }

    private void Apply(RunState state, ChunkResult result, List<TRow> buffer, long first)
    {
        var report = state.Report;
        report.Chunks++;
        report.RowsRead = first + buffer.Count;
        report.Inserted += result.Inserted;
        report.Updated += result.Updated;
        report.Unchanged += result.Unchanged;
        report.DuplicatesInInput += result.Duplicates;
        if (Mode == BulkMode.Upsert)
        {
            // An upsert with nothing to update skips an existing key: it is unchanged.
            report.Unchanged += result.Existing;
        }
        else
        {
            report.Existing += result.Existing;
        }

        state.LastChunkSkipped = buffer.Count - result.Inserted - result.Updated;
        state.Record(state.LastChunkSkipped, result.Duplicates > 0);
        if (result.Transaction is { } transaction && !state.Transactions.Contains(transaction))
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
                case BulkSql.KindExisting when Mode != BulkMode.Upsert:
                    Keep(state.Existing, row);
                    break;
                case BulkSql.KindDuplicate:
                    Keep(state.Duplicates, row);
                    break;
                case BulkSql.KindExisting or BulkSql.KindUnchanged:
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
        RollBackUncommitted(state);
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
        RollBackUncommitted(state);
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

    // A run in one transaction that stops before its commit leaves nothing: its report says so.
    private void RollBackUncommitted(RunState state)
    {
        if (Options.SingleTransaction && Mode != BulkMode.Preview && !state.Committed)
        {
            state.RollBack();
        }
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

        public long Existing { get; set; }

        public long Duplicates { get; set; }

        public long Unchanged { get; set; }

        public long? Transaction { get; set; }

        public ChunkWrite Write { get; set; }

        public List<(long Index, int Kind)> Skipped { get; } = [];

        public List<TRow> Written { get; } = [];

        public void Add(int kind, long count)
        {
            switch (kind)
            {
                case BulkSql.KindInsertedRow:
                    Inserted += count;
                    break;
                case BulkSql.KindUpdatedRow:
                    Updated += count;
                    break;
                case BulkSql.KindExisting:
                    Existing += count;
                    break;
                case BulkSql.KindDuplicate:
                    Duplicates += count;
                    break;
                case BulkSql.KindUnchanged:
                    Unchanged += count;
                    break;
                default:
                    throw new InvalidOperationException($"Unexpected bulk result kind {kind}.");
            }
        }
    }

    private sealed class RunState(BulkWriteReport<TRow> report)
    {
        public BulkWriteReport<TRow> Report { get; } = report;

        // Input rows taken into chunks so far (committed or in flight): the next chunk's first ordinal.
        public long Read { get; set; }

        // Rows the last committed chunk did not write: 0 lets the next chunk try the plain INSERT.
        public long LastChunkSkipped { get; set; } = -1;

        // What each committed chunk did, in input order: the rows it skipped, and whether it held keys written earlier in the
        // input (a probed chunk fails on such a key and is written twice). Appended by one chunk while the next reads it.
        private readonly List<(long Skipped, bool Repeated)> _chunks = [];

        public List<long> Transactions { get; } = [];

        public List<TRow> Existing { get; } = [];

        public List<TRow> Duplicates { get; } = [];

        public List<TRow> Written { get; } = [];

        public void Record(long skipped, bool repeated)
        {
            lock (_chunks)
            {
                _chunks.Add((skipped, repeated));
            }
        }

        // Whether the chunk numbered index (from 0) looks its keys up while the chunk before it writes: when the chunk two
        // before it skipped rows and repeated no key. That one has always committed when this one starts (the run waits for
        // it first), so the choice does not depend on timing. The first two chunks look.
        public bool ShouldProbe(int index)
        {
            lock (_chunks)
            {
                return index < 2 || index - 2 >= _chunks.Count || _chunks[index - 2] is { Skipped: not 0, Repeated: false };
            }
        }

        // A run in one transaction: set once it committed.
        public bool Committed { get; set; }

        // A run in one transaction that did not commit: nothing of it is stored.
        public void RollBack()
        {
            var report = Report;
            (report.Chunks, report.RowsRead, report.Inserted, report.Updated, report.Unchanged) = (0, 0, 0, 0, 0);
            (report.Existing, report.DuplicatesInInput) = (0, 0);
            Transactions.Clear();
            Existing.Clear();
            Duplicates.Clear();
            Written.Clear();
        }

        public void Finish()
        {
            Report.ExistingRows = Existing;
            Report.DuplicateRows = Duplicates;
            Report.WrittenRows = Written;
        }
    }

    // A chunk failed and rolled back; First and Count name its input rows.
    private sealed class ChunkFailedException(long first, int count, Exception inner) : Exception(inner.Message, inner)
    {
        public long First { get; } = first;

        public int Count { get; } = count;
    }

    // The chunk before this one failed or was canceled: this one writes nothing.
    private sealed class PreviousChunkFailedException : Exception;
}

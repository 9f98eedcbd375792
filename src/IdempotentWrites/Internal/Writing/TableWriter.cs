// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using IdempotentWrites.Internal.Coalescing;
using IdempotentWrites.Internal.Mapping;
using Npgsql;
using Polly;
using Polly.Timeout;

namespace IdempotentWrites.Internal.Writing;

// The hot path of one mapped table: its plan (looked up once, then a field read), its insert-or-get strategy and its span
// names. Once the plan is known a call is one async frame (AttemptAsync, direct): telemetry, the connection and the round
// trips. With the default resilience pipeline that first attempt runs outside Polly (under the same timeout, as
// per-statement deadlines) and only a failed attempt enters the pipeline, which sees it as its own first attempt.
internal sealed class TableWriter<T>
    where T : class
{
    private const string Savepoint = "iw_write";

    private readonly IdempotentWriter _writer;
    private readonly TableMapping _mapping;
    private readonly InsertOrGetStrategy _strategy;
    private readonly string _insertOrGetSpan;
    private readonly string _upsertSpan;
    private readonly string _insertSpan;
    private readonly WriteCoalescer<T>? _coalescer;
    private WritePlan? _plan;

    public TableWriter(IdempotentWriter writer, TableMapping mapping, InsertOrGetStrategy strategy)
    {
        _writer = writer;
        _mapping = mapping;
        _strategy = strategy;
        _coalescer = writer.MaxCoalescedRows > 1 ? new WriteCoalescer<T>(writer, this, writer.MaxCoalescedRows) : null;
        _insertOrGetSpan = IdempotentWriter.InsertOrGetOperation + " " + mapping.DisplayName;
        _upsertSpan = IdempotentWriter.UpsertOperation + " " + mapping.DisplayName;
        _insertSpan = IdempotentWriter.InsertOperation + " " + mapping.DisplayName;
    }

    public IdempotentWriter Owner => _writer;

    public TableMapping Mapping => _mapping;

    public InsertOrGetStrategy Strategy => _strategy;

    public Task<WriteResult<T>> WriteAsync(T row, NpgsqlTransaction? transaction, bool upsert, CancellationToken cancellationToken)
        => transaction is null && _coalescer is not null && _plan is { } plan
            ? _coalescer.WriteAsync(plan, row, upsert, cancellationToken)
            : WriteOneAsync(row, transaction, upsert, cancellationToken);

    public string SpanName(bool upsert) => upsert ? _upsertSpan : _insertOrGetSpan;

    // One call on its own. record: false when a coalesced caller, which records its own span and metrics, falls back to it;
    // slot: the coalescer whose in-flight slot this call holds, released when it completes. Once the plan is known, a call
    // outside a transaction (with the default pipeline) or inside one is a single frame: AttemptAsync in its direct form.
    public Task<WriteResult<T>> WriteOneAsync(
        T row,
        NpgsqlTransaction? transaction,
        bool upsert,
        CancellationToken cancellationToken,
        bool record = true,
        WriteCoalescer<T>? slot = null)
        => _plan is { } plan && (transaction is not null || _writer.DirectFirstAttempt)
            ? AttemptAsync(plan, row, transaction, Kind(upsert), 0, cancellationToken, new Direct(record, slot))
            : WriteThroughPipelineAsync(row, transaction, upsert, cancellationToken, record, slot);

    // The first call of a table (its plan is resolved by the pipeline's first attempt, so a database that is not up yet is
    // retried), or any call when the app registered its own pipeline, which then sees every attempt.
    private async Task<WriteResult<T>> WriteThroughPipelineAsync(
        T row,
        NpgsqlTransaction? transaction,
        bool upsert,
        CancellationToken cancellationToken,
        bool record,
        WriteCoalescer<T>? slot)
    {
        var operation = OperationName(Kind(upsert));
        using var activity = record ? WriterTelemetry.Start(SpanName(upsert), operation, _mapping) : null;
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (transaction is not null)
            {
                // Inside the caller's transaction nothing is retried here: after an error only the whole transaction can be.
                var plan = _plan ?? await PlanAsync(cancellationToken).ConfigureAwait(false);
                var result = await AttemptAsync(plan, row, transaction, Kind(upsert), 0, cancellationToken).ConfigureAwait(false);
                if (record)
                {
                    _writer.Telemetry.Succeeded(activity, operation, plan, result.Outcome, 1, started);
                }

                return result;
            }

            return await PipelineAsync(row, upsert, null, 0, activity, started, record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (record)
            {
                _writer.Telemetry.Failed(activity, operation, _mapping, ex, started);
            }

            throw;
        }
        finally
        {
            slot?.Release();
        }
    }

    // A direct call whose attempt failed (its connection is back in the pool). Inside a transaction, or cancelled by the
    // caller, the error is the call's. Otherwise: a conflict on a generated key is healed (opt-in), a call past its timeout
    // fails with the pipeline's TimeoutRejectedException, and the pipeline takes over, seeing the failure as its first attempt.
    private async Task<WriteResult<T>> DirectFailedAsync(
        Exception failure,
        T row,
        NpgsqlTransaction? transaction,
        bool upsert,
        Direct direct,
        Activity? activity,
        long started,
        long deadline,
        CancellationToken cancellationToken)
    {
        var operation = OperationName(Kind(upsert));
        using (activity)
        {
            try
            {
                if (transaction is not null || (failure is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    ExceptionDispatchInfo.Throw(failure);
                }

                Exception? failed = null;
                if (failure is UniqueViolationException violation && _writer.HealsSequences(violation))
                {
                    // Repaired; the pipeline makes the write again (and heals once more should it still conflict).
                    await _writer.HealAsync(_mapping, violation, cancellationToken).ConfigureAwait(false);
                }
                else if (Stopwatch.GetTimestamp() >= deadline)
                {
                    throw new TimeoutRejectedException(
                        $"The operation didn't complete within the allowed timeout of '{_writer.Timeout}'.", _writer.Timeout, failure);
                }
                else
                {
                    failed = failure;
                }

                return await PipelineAsync(row, upsert, failed, deadline, activity, started, direct.Record, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                if (direct.Record)
                {
                    _writer.Telemetry.Failed(activity, operation, _mapping, ex, started);
                }

                throw;
            }
            finally
            {
                direct.Slot?.Release();
            }
        }
    }

    // The call's attempts in the resilience pipeline; failed: the first attempt's failure, made outside it.
    private async Task<WriteResult<T>> PipelineAsync(
        T row,
        bool upsert,
        Exception? failed,
        long deadline,
        Activity? activity,
        long started,
        bool record,
        CancellationToken cancellationToken)
    {
        var operation = OperationName(Kind(upsert));
        var call = new PipelineCall(this, row, upsert, failed);
        var result = await _writer.RunInPipelineAsync(
            operation,
            static (context, call) => call.Writer.PipelineAttemptAsync(call, context),
            call,
            deadline,
            cancellationToken).ConfigureAwait(false);
        if (record)
        {
            _writer.Telemetry.Succeeded(activity, operation, call.Plan!, result.Outcome, call.Executions, started);
        }

        return result;
    }

    public async Task<T> InsertAsync(T row, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        using var activity = WriterTelemetry.Start(_insertSpan, IdempotentWriter.InsertOperation, _mapping);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Not idempotent, so never retried: after an ambiguous failure only the caller knows whether to try again.
            // Self-healing never runs inside a caller's transaction (the repair locks the table).
            var plan = _plan ?? await PlanAsync(cancellationToken).ConfigureAwait(false);
            T inserted;
            try
            {
                inserted = (await AttemptAsync(plan, row, transaction, Operation.Insert, 0, cancellationToken).ConfigureAwait(false)).Row;
            }
            catch (UniqueViolationException violation) when (transaction is null && _writer.HealsSequences(violation))
            {
                await _writer.HealAsync(_mapping, violation, cancellationToken).ConfigureAwait(false);
                inserted = (await AttemptAsync(plan, row, null, Operation.Insert, 0, cancellationToken).ConfigureAwait(false)).Row;
            }

            _writer.Telemetry.Succeeded(activity, IdempotentWriter.InsertOperation, plan, WriteOutcome.Inserted, 1, started);
            return inserted;
        }
        catch (Exception ex)
        {
            _writer.Telemetry.Failed(activity, IdempotentWriter.InsertOperation, _mapping, ex, started);
            throw;
        }
    }

    // The re-select for a row exactly as a write sends it (SQL and typed parameters), for EXPLAIN checks.
    public async Task<NpgsqlCommand> ReselectCommandAsync(T row, CancellationToken cancellationToken)
    {
        var plan = _plan ?? await PlanAsync(cancellationToken).ConfigureAwait(false);
        var command = new NpgsqlCommand(plan.ReselectSql);
        ParameterBinder.AddParameters(plan, command.Parameters, row, plan.ReselectParameters);
        return command;
    }

    private static Operation Kind(bool upsert) => upsert ? Operation.Upsert : Operation.InsertOrGet;

    private static string OperationName(Operation operation) => operation switch
    {
        Operation.Upsert => IdempotentWriter.UpsertOperation,
        Operation.Insert => IdempotentWriter.InsertOperation,
        _ => IdempotentWriter.InsertOrGetOperation,
    };

    private async ValueTask<WritePlan> PlanAsync(CancellationToken cancellationToken)
    {
        var plan = await _writer.GetPlanAsync(typeof(T), cancellationToken).ConfigureAwait(false);
        _plan = plan;
        return plan;
    }

    // One attempt inside the pipeline. The first may be the attempt already made outside it: its failure is returned as
    // this attempt's outcome, so the pipeline's predicate, OnRetry, backoff and attempt count see it like any other.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<WriteResult<T>>> PipelineAttemptAsync(PipelineCall call, ResilienceContext context)
    {
        call.Executions++;
        if (call.Failed is { } failed)
        {
            call.Failed = null;
            call.Executions = 1;
            return Outcome.FromException<WriteResult<T>>(failed);
        }

        try
        {
            var plan = call.Plan = _plan ?? await PlanAsync(context.CancellationToken).ConfigureAwait(false);
            try
            {
                return Outcome.FromResult(
                    await AttemptAsync(plan, call.Row, null, Kind(call.Upsert), 0, context.CancellationToken).ConfigureAwait(false));
            }
            catch (UniqueViolationException violation) when (_writer.HealsSequences(violation))
            {
                await _writer.HealAsync(_mapping, violation, context.CancellationToken).ConfigureAwait(false);
                return Outcome.FromResult(
                    await AttemptAsync(plan, call.Row, null, Kind(call.Upsert), 0, context.CancellationToken).ConfigureAwait(false));
            }
        }
        catch (Exception ex)
        {
            return Outcome.FromException<WriteResult<T>>(ex);
        }
    }

    // One attempt: a connection (or the caller's), then the operation's round trips (see RoundTrips), all run in this one
    // frame: a round trip costs no async frame of its own. A deadline (a Stopwatch timestamp, 0 for none) bounds each
    // statement when the attempt runs outside the pipeline's timeout.
    // direct: the attempt is the call itself (WriteOneAsync), in the same frame: its span and metrics, and outside a
    // transaction the call's timeout as statement deadlines; a failure goes on in DirectFailedAsync.
    private async Task<WriteResult<T>> AttemptAsync(
        WritePlan plan,
        T row,
        NpgsqlTransaction? transaction,
        Operation operation,
        long deadline,
        CancellationToken cancellationToken,
        Direct? direct = null)
    {
        Activity? activity = null;
        var started = 0L;
        if (direct is { } call)
        {
            started = Stopwatch.GetTimestamp();
            deadline = transaction is null ? started + _writer.TimeoutTicks : 0;
            activity = call.Record ? WriterTelemetry.Start(SpanName(operation == Operation.Upsert), OperationName(operation), _mapping) : null;
        }

        WriteResult<T> done;
        try
        {
            if (operation == Operation.Upsert && plan.UpsertDenied is not null)
            {
                throw new TableMappingException(plan.Mapping.DisplayName, plan.UpsertDenied);
            }

            if (operation != Operation.Insert)
            {
                ParameterBinder.CheckKeys(plan, row);
            }

            // Insert-or-get in the table's current mode (see InsertOrGetStrategy); every mode is race-safe. An upsert with
            // nothing to update but the key is one too.
            var insertOrGet = operation == Operation.InsertOrGet
                || (operation == Operation.Upsert && plan.UpsertSql is null && plan.UpdateSql is null);
            var connection = transaction is null
                ? await IdempotentWriter.OpenAsync(_writer.DataSource, cancellationToken).ConfigureAwait(false)
                : IdempotentWriter.ConnectionOf(transaction);
            try
            {
                var maxAttempts = _writer.MaxReselectAttempts;
                for (var attempt = 1; ; attempt++)
                {
                    var trip = FirstTrip(plan, operation, insertOrGet);
                    WriteResult<T>? result;
                    while (true)
                    {
                        // One round trip: one statement outside a transaction is a plain command (what hand-written code sends);
                        // two, or a savepoint, a batch.
                        var (first, then) = (trip.First, trip.Then);
                        var alone = transaction is null && then is null;
                        var keep = transaction is null && _writer.Prepare && plan.Access.Rebinds;
                        var commands = keep && alone ? first.Commands : null;
                        var batches = keep && !alone ? trip.Batches : null;
                        var backend = commands is null && batches is null ? 0 : connection.ProcessID;
                        var command = alone
                            ? commands?.Rent(connection, backend, plan, row) ?? NewCommand(plan, row, connection, first)
                            : null;
                        var batch = command is null
                            ? batches?.Rent(connection, backend, plan, row) ?? Batch(plan, row, connection, transaction, first, then)
                            : null;
                        var kept = false;
                        try
                        {
                            if (deadline != 0)
                            {
                                // Outside the pipeline the timeout is the statement's own: the seconds left, rounded up (Npgsql
                                // cancels the query).
                                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                                var timeout = left <= TimeSpan.Zero ? 1 : (int)Math.Min(int.MaxValue, Math.Ceiling(left.TotalSeconds));
                                if (command is not null && (command.CommandTimeout == 0 || timeout < command.CommandTimeout))
                                {
                                    command.CommandTimeout = timeout;
                                }
                                else if (batch is not null && (batch.Timeout == 0 || timeout < batch.Timeout))
                                {
                                    batch.Timeout = timeout;
                                }
                            }

                            try
                            {
                                if (_writer.Prepare && command?.IsPrepared != true)
                                {
                                    // Finds the statement already prepared once this physical connection has prepared the SQL: Npgsql
                                    // keeps prepared statements across pooled opens. A kept command prepared there skips even that
                                    // (a kept batch skips the lookup by SQL text; Npgsql shows no IsPrepared on a batch).
                                    await (command?.PrepareAsync(cancellationToken) ?? batch!.PrepareAsync(cancellationToken)).ConfigureAwait(false);
                                }

                                var reader = command is not null
                                    ? await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false)
                                    : await batch!.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                                await using (reader.ConfigureAwait(false))
                                {
                                    // SAVEPOINT returns no result set; Npgsql's reader starts at the first statement that does.
                                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                                    {
                                        var outcome = first.Xmax && !reader.GetBoolean(plan.Mapping.Columns.Count)
                                            ? WriteOutcome.Updated
                                            : first.Outcome;
                                        result = new WriteResult<T>(outcome, (T)RowReader.Read(plan, reader, outcome), attempt);
                                    }
                                    else if (then is { } reselect)
                                    {
                                        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                                        result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                                            ? new WriteResult<T>(reselect.Outcome, (T)RowReader.Read(plan, reader, reselect.Outcome), attempt)
                                            : null;
                                    }
                                    else
                                    {
                                        result = null;
                                    }
                                }

                                kept = command is not null
                                    ? commands is not null && commands.Return(backend, command, plan)
                                    : batches is not null && batches.Return(backend, batch!, plan);
                            }
                            catch (PostgresException ex)
                            {
                                throw await FailedAsync(ex, plan, row, connection, transaction, cancellationToken).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException ex) when (transaction is not null && ex.InnerException is PostgresException)
                            {
                                // The server cancelled the batch (so SAVEPOINT ran): without this the caller's transaction would be
                                // aborted (25P02).
                                await RollbackToSavepointAsync(connection, transaction, plan, release: true).ConfigureAwait(false);
                                throw;
                            }
                        }
                        finally
                        {
                            if (command is not null && !kept)
                            {
                                commands?.Drop(backend, command);
                                command.Dispose();
                            }
                            else if (batch is not null && !kept)
                            {
                                batches?.Drop(backend, batch);
                                batch.Dispose();
                            }
                        }

                        if (result is not null || trip.Fallback is not { } next)
                        {
                            break;
                        }

                        trip = next;
                    }

                    if (operation == Operation.Insert)
                    {
                        done = result ?? throw new InvalidOperationException(
                            $"The insert into {plan.Mapping.DisplayName} returned no row: a BEFORE INSERT trigger " +
                            $"({string.Join(", ", plan.Facts?.BeforeInsertTriggers ?? [])}) returned NULL and skipped it.");
                        break;
                    }

                    if (result is not null)
                    {
                        if (!insertOrGet)
                        {
                            done = result;
                            break;
                        }

                        _strategy.Record(result.Outcome == WriteOutcome.Existing);
                        done = operation == Operation.Upsert && result.Outcome == WriteOutcome.Existing
                            ? new WriteResult<T>(WriteOutcome.Unchanged, result.Row, result.Attempts)
                            : result;
                        break;
                    }

                    // The conflicting row is gone (deleted between the two statements) or invisible.
                    if (transaction is not null && !await IsReadCommittedAsync(connection, transaction, cancellationToken).ConfigureAwait(false))
                    {
                        // Under REPEATABLE READ / SERIALIZABLE every retry would read the same stale snapshot.
                        throw new TransientConflictException(
                            $"A row conflicting on {plan.Mapping.DisplayName} exists but is not visible to this " +
                            "transaction's snapshot. Retry the whole transaction.",
                            PostgresErrorCodes.SerializationFailure,
                            null);
                    }

                    _writer.Logger.ConflictingRowVanished(plan.Mapping.DisplayName, attempt, maxAttempts);
                    if (attempt >= maxAttempts)
                    {
                        throw new ConflictingRowNotFoundException(plan.Mapping.DisplayName, attempt, plan.Facts?.LikelyCauses() ?? "unknown");
                    }
                }
            }
            finally
            {
                if (transaction is null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (direct is not null)
        {
            return await DirectFailedAsync(
                ex,
                row,
                transaction,
                operation == Operation.Upsert,
                direct.Value,
                activity,
                started,
                deadline,
                cancellationToken).ConfigureAwait(false);
        }

        if (direct is { } succeeded)
        {
            if (succeeded.Record)
            {
                _writer.Telemetry.Succeeded(activity, OperationName(operation), plan, done.Outcome, 1, started);
            }

            activity?.Dispose();

            succeeded.Slot?.Release();
        }

        return done;
    }

    // The first round trip of an attempt (see RoundTrip.Build).
    private RoundTrip FirstTrip(WritePlan plan, Operation operation, bool insertOrGet)
        => plan.RoundTrips[
            operation == Operation.Insert ? RoundTrip.InsertIndex
            : insertOrGet ? RoundTrip.InsertOrGetIndex + (int)_strategy.Mode
            : RoundTrip.UpsertIndex]!;

    // A statement sent alone, outside a transaction: a plain command (what hand-written code sends).
    private static NpgsqlCommand NewCommand(WritePlan plan, T row, NpgsqlConnection connection, RoundTrip.Statement statement)
    {
        var command = new NpgsqlCommand(statement.Sql, connection);
        ParameterBinder.AddParameters(plan, command.Parameters, row, statement.Subset);
        return command;
    }

    // A round trip of more than one statement, or inside a caller's transaction: a batch, under a savepoint in a
    // transaction (rolled back on any error, also a cancellation the server acted on), so the caller's transaction stays usable.
    private static NpgsqlBatch Batch(
        WritePlan plan,
        T row,
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        RoundTrip.Statement first,
        RoundTrip.Statement? then)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        if (transaction is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SAVEPOINT {Savepoint}"));
        }

        var write = new NpgsqlBatchCommand(first.Sql);
        ParameterBinder.AddParameters(plan, write.Parameters, row, first.Subset);
        batch.BatchCommands.Add(write);
        if (then is { } next)
        {
            var second = new NpgsqlBatchCommand(next.Sql);
            ParameterBinder.AddParameters(plan, second.Parameters, row, next.Subset);
            batch.BatchCommands.Add(second);
        }

        if (transaction is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"RELEASE SAVEPOINT {Savepoint}"));
        }

        return batch;
    }

    // The typed error for a statement's failure. Inside the caller's transaction: back to the savepoint, which is kept while
    // the catalog is read on this same connection (a second pooled connection could wait forever on a pool full of such
    // transactions), then rolled back to again (the reads change nothing; a failed read would have aborted the
    // transaction) and released.
    private async Task<Exception> FailedAsync(
        PostgresException ex,
        WritePlan plan,
        T row,
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        CancellationToken cancellationToken)
    {
        // The row's values as a list only on this path: the error names and diagnoses them.
        var values = ParameterBinder.ReadValues(plan, row, checkKeys: false);
        if (transaction is null)
        {
            return await _writer.TranslateAsync(ex, connection, plan.Mapping, values, cancellationToken).ConfigureAwait(false);
        }

        if (!await RollbackToSavepointAsync(connection, transaction, plan, release: false).ConfigureAwait(false))
        {
            return await _writer.TranslateAsync(ex, null, plan.Mapping, values, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await _writer.TranslateAsync(ex, connection, plan.Mapping, values, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await RollbackToSavepointAsync(connection, transaction, plan, release: true).ConfigureAwait(false);
        }
    }

    private static async Task<bool> IsReadCommittedAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand("SELECT pg_catalog.current_setting('transaction_isolation')", connection, transaction);
        var level = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return level is "read committed" or "read uncommitted";
    }

    // Returns false when the savepoint could not be rolled back to (the connection broke): the caller's transaction is lost.
    private async Task<bool> RollbackToSavepointAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, WritePlan plan, bool release)
    {
        try
        {
            // Not cancellable: leaving the caller's transaction aborted would be worse than waiting for one round trip.
            using var command = new NpgsqlCommand(
                release ? $"ROLLBACK TO SAVEPOINT {Savepoint}; RELEASE SAVEPOINT {Savepoint}" : $"ROLLBACK TO SAVEPOINT {Savepoint}",
                connection,
                transaction);
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (NpgsqlException ex)
        {
            _writer.Logger.SavepointRollbackFailed(plan.Mapping.DisplayName, ex);
            return false;
        }
    }

    // A call that entered the pipeline: what each attempt needs, and what the telemetry reads after it.
    private sealed class PipelineCall(TableWriter<T> writer, T row, bool upsert, Exception? failed)
    {
        public TableWriter<T> Writer { get; } = writer;

        public T Row { get; } = row;

        public bool Upsert { get; } = upsert;

        public Exception? Failed { get; set; } = failed;

        public WritePlan? Plan { get; set; } = writer._plan;

        public int Executions { get; set; }
    }

    // An attempt that is the call itself (see AttemptAsync): whether it records its span and metrics, and the coalescer slot
    // it releases when it completes.
    private readonly record struct Direct(bool Record, WriteCoalescer<T>? Slot);

    // What an attempt writes: insert-or-get, upsert, or a plain insert (InsertAsync, never retried).
    private enum Operation
    {
        InsertOrGet,
        Upsert,
        Insert,
    }
}

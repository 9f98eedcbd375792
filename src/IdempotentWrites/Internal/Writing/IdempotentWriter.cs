// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using System.Data;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;

namespace IdempotentWrites.Internal.Writing;

internal sealed partial class IdempotentWriter : IIdempotentWriter
{
    public const string InsertOrGetOperation = "insert_or_get";
    public const string UpsertOperation = "upsert";
    public const string InsertOperation = "insert";
    public const string TransactionOperation = "transaction";

    private const string Savepoint = "iw_write";

    private readonly NpgsqlDataSource _dataSource;
    private readonly IReadOnlyDictionary<Type, TableMapping> _mappings;
    private readonly ConcurrentDictionary<Type, Lazy<Task<WritePlan>>> _plans = new();
    private readonly ErrorTranslator _errors;
    private readonly ResiliencePipeline _pipeline;
    private readonly WriterTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly int _maxAttempts;
    private readonly bool _prepare;
    private readonly bool _healSequences;
    private readonly JsonSerializerOptions _json;

    public IdempotentWriter(
        IdempotentWritesDataSource dataSource,
        IOptions<IdempotentWritesOptions> options,
        IOptions<TableMappingRegistry> registry,
        [FromKeyedServices(IdempotentWritesResilience.PipelineKey)] ResiliencePipeline pipeline,
        WriterTelemetry telemetry,
        ILogger<IdempotentWriter>? logger = null)
    {
        _dataSource = dataSource.DataSource;
        _mappings = registry.Value.Mappings;
        _maxAttempts = options.Value.MaxReselectAttempts;
        _prepare = options.Value.PrepareStatements && !options.Value.TransactionPooling;
        _healSequences = options.Value.HealSequences;
        _json = options.Value.JsonSerializerOptions ?? ColumnCodec.DefaultJsonOptions;
        _pipeline = pipeline;
        _telemetry = telemetry;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _errors = new ErrorTranslator(_logger);
    }

    public IReadOnlyCollection<TableMapping> Mappings => (IReadOnlyCollection<TableMapping>)_mappings.Values;

    internal ErrorTranslator Errors => _errors;

    internal NpgsqlDataSource DataSource => _dataSource;

    public Task<WriteResult<T>> InsertOrGetAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        return RunAsync(InsertOrGetOperation, row, null, upsert: false, cancellationToken);
    }

    public Task<WriteResult<T>> InsertOrGetAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(transaction);
        return RunAsync(InsertOrGetOperation, row, transaction, upsert: false, cancellationToken);
    }

    public Task<WriteResult<T>> UpsertAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        return RunAsync(UpsertOperation, row, null, upsert: true, cancellationToken);
    }

    public Task<WriteResult<T>> UpsertAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(transaction);
        return RunAsync(UpsertOperation, row, transaction, upsert: true, cancellationToken);
    }

    public Task<T> InsertAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        return InsertCoreWithTelemetryAsync(row, null, cancellationToken);
    }

    public Task<T> InsertAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(transaction);
        return InsertCoreWithTelemetryAsync(row, transaction, cancellationToken);
    }

    private async Task<T> InsertCoreWithTelemetryAsync<T>(T row, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
        where T : class
    {
        var plan = await GetPlanAsync(typeof(T), cancellationToken).ConfigureAwait(false);
        using var activity = WriterTelemetry.Start(InsertOperation, plan.Mapping);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Not idempotent, so never retried: after an ambiguous failure only the caller knows whether to try again.
            // Self-healing never runs inside a caller's transaction (the repair locks the table).
            var inserted = transaction is null
                ? await HealingAsync(plan, () => InsertCoreAsync(plan, row, null, cancellationToken), cancellationToken).ConfigureAwait(false)
                : await InsertCoreAsync(plan, row, transaction, cancellationToken).ConfigureAwait(false);
            _telemetry.Succeeded(activity, InsertOperation, plan, WriteOutcome.Inserted, 1, started);
            return inserted;
        }
        catch (Exception ex)
        {
            _telemetry.Failed(activity, InsertOperation, plan.Mapping, ex, started);
            throw;
        }
    }

    public async Task<TResult> ExecuteInTransactionAsync<TResult>(
        Func<NpgsqlTransaction, CancellationToken, Task<TResult>> work,
        IsolationLevel isolationLevel = IsolationLevel.ReadCommitted,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var activity = WriterTelemetry.Source.StartActivity(TransactionOperation, ActivityKind.Internal);
        var context = ResilienceContextPool.Shared.Get(TransactionOperation, cancellationToken);
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (context, state) =>
                {
                    var connection = await OpenAsync(state.DataSource, context.CancellationToken).ConfigureAwait(false);
                    await using (connection.ConfigureAwait(false))
                    {
                        var transaction = await connection.BeginTransactionAsync(state.IsolationLevel, context.CancellationToken).ConfigureAwait(false);
                        await using (transaction.ConfigureAwait(false))
                        {
                            var result = await state.Work(transaction, context.CancellationToken).ConfigureAwait(false);
                            try
                            {
                                await transaction.CommitAsync(context.CancellationToken).ConfigureAwait(false);
                            }
                            catch (PostgresException ex)
                            {
                                // A deferred constraint (INITIALLY DEFERRED unique, foreign key, ...) is checked here, at COMMIT.
                                // The transaction is over, so its connection can read the catalog for the typed error.
                                var translated = await state.Errors.TranslateAsync(ex, connection, null, null, CancellationToken.None).ConfigureAwait(false);
                                if (ReferenceEquals(translated, ex))
                                {
                                    throw;
                                }

                                throw translated;
                            }

                            return result;
                        }
                    }
                },
                context,
                (DataSource: _dataSource, Work: work, IsolationLevel: isolationLevel, Errors: _errors)).ConfigureAwait(false);
        }
        catch (Exception ex) when (activity is not null)
        {
            activity.SetTag("error.type", WriterTelemetry.ErrorType(ex));
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // Resolves (once) every mapping against the catalog; used by the startup check.
    public async Task ValidateAllAsync(CancellationToken cancellationToken)
    {
        foreach (var type in _mappings.Keys)
        {
            await GetPlanAsync(type, cancellationToken).ConfigureAwait(false);
        }
    }

    // Resolves every mapping, collecting schema errors instead of stopping at the first; an unreachable database throws.
    public async Task<IReadOnlyList<TableMappingException>> ValidateEachAsync(CancellationToken cancellationToken)
    {
        var failures = new List<TableMappingException>();
        foreach (var type in _mappings.Keys)
        {
            try
            {
                await GetPlanAsync(type, cancellationToken).ConfigureAwait(false);
            }
            catch (TableMappingException ex)
            {
                failures.Add(ex);
            }
        }

        return failures;
    }

    internal Task<WritePlan> GetPlanAsync(Type rowType, CancellationToken cancellationToken)
    {
        var mapping = MappingOf(rowType);
        var lazy = _plans.GetOrAdd(rowType, _ => new Lazy<Task<WritePlan>>(() => ResolveAsync(mapping)));
        var task = lazy.Value;
        return task.IsCompletedSuccessfully ? task : AwaitPlanAsync(rowType, lazy, cancellationToken);
    }

    // The re-select for a row exactly as a write sends it (SQL and typed parameters), for EXPLAIN checks.
    internal async Task<NpgsqlCommand> ReselectCommandAsync<T>(T row, CancellationToken cancellationToken)
        where T : class
    {
        var plan = await GetPlanAsync(typeof(T), cancellationToken).ConfigureAwait(false);
        var command = new NpgsqlCommand(plan.ReselectSql);
        AddParameters(plan, command.Parameters, ReadValues(plan, row, checkKeys: false), plan.ReselectParameters);
        return command;
    }

    private TableMapping MappingOf(Type rowType)
        => _mappings.TryGetValue(rowType, out var mapping)
            ? mapping
            : throw new InvalidOperationException($"Type {rowType.Name} has no table mapping; register it with services.AddIdempotentWrites(...).MapTable<{rowType.Name}>(\"table\", t => t.ConflictOn(...)).");

    private async Task<WritePlan> AwaitPlanAsync(Type rowType, Lazy<Task<WritePlan>> lazy, CancellationToken cancellationToken)
    {
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            // A failed resolution (server down, schema not migrated yet) is retried by the next call.
            _plans.TryRemove(new KeyValuePair<Type, Lazy<Task<WritePlan>>>(rowType, lazy));
            throw;
        }
    }

    private async Task<WritePlan> ResolveAsync(TableMapping mapping)
    {
        // Resolution runs on its own connection so a catalog error can never abort a caller's transaction.
        var connection = await OpenAsync(_dataSource, CancellationToken.None).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await MappingResolver.ResolveAsync(connection, mapping, _json, _logger, CancellationToken.None).ConfigureAwait(false);
        }
    }

    // Self-healing (opt-in): a conflict on a key the database generated means its sequence is behind the data. Repair
    // that column's sequence(s) and retry once. Never inside a caller's transaction: the repair locks the table.
    private async Task<TResult> HealingAsync<TResult>(WritePlan plan, Func<Task<TResult>> write, CancellationToken cancellationToken)
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (UniqueViolationException violation) when (_healSequences && violation.IsGeneratedKey && violation.TableName is not null)
        {
            var doctor = new SequenceDoctor(_dataSource, _logger);
            var repaired = 0;
            foreach (var column in violation.Columns)
            {
                var repairs = await doctor.RepairColumnAsync(violation.SchemaName, violation.TableName, column, cancellationToken).ConfigureAwait(false);
                repaired += repairs.Count(r => r.Outcome == SequenceRepairOutcome.Repaired);
                _logger.SequenceHealed(plan.Mapping.DisplayName, column, violation.ConstraintName, repairs.Count);
            }

            _telemetry.SequencesRepaired(plan.Mapping.DisplayName, repaired);
            return await write().ConfigureAwait(false);
        }
    }

    private async Task<T> InsertCoreAsync<T>(WritePlan plan, T row, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
        where T : class
    {
        var values = ReadValues(plan, row, checkKeys: false);
        var connection = transaction is null
            ? await OpenAsync(_dataSource, cancellationToken).ConfigureAwait(false)
            : ConnectionOf(transaction);
        try
        {
            var result = await BatchAsync<T>(plan, values, connection, transaction, Statement.Insert(plan.InsertSql), null, 1, cancellationToken).ConfigureAwait(false);
            return result?.Row ?? throw new InvalidOperationException(
                $"The insert into {plan.Mapping.DisplayName} returned no row: a BEFORE INSERT trigger ({string.Join(", ", plan.Facts?.BeforeInsertTriggers ?? [])}) returned NULL and skipped it.");
        }
        finally
        {
            if (transaction is null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<WriteResult<T>> RunAsync<T>(string operation, T row, NpgsqlTransaction? transaction, bool upsert, CancellationToken cancellationToken)
        where T : class
    {
        var mapping = MappingOf(typeof(T));
        using var activity = WriterTelemetry.Start(operation, mapping);
        var started = Stopwatch.GetTimestamp();
        var executions = new StrongBox<int>();
        var resolved = new StrongBox<WritePlan?>();
        try
        {
            WriteResult<T> result;
            if (transaction is not null)
            {
                // Inside the caller's transaction nothing is retried here: after an error only the whole transaction can be.
                executions.Value = 1;
                var plan = resolved.Value = await GetPlanAsync(typeof(T), cancellationToken).ConfigureAwait(false);
                result = await WriteAsync(plan, row, transaction, upsert, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
                try
                {
                    // The plan is resolved inside the pipeline too: the first call may meet a lost connection like any other.
                    result = await _pipeline.ExecuteAsync(
                        static async (context, state) =>
                        {
                            state.Executions.Value++;
                            var plan = state.Resolved.Value = await state.Writer.GetPlanAsync(typeof(T), context.CancellationToken).ConfigureAwait(false);
                            return await state.Writer.HealingAsync(
                                plan,
                                () => state.Writer.WriteAsync(plan, state.Row, null, state.Upsert, context.CancellationToken),
                                context.CancellationToken).ConfigureAwait(false);
                        },
                        context,
                        (Writer: this, Row: row, Upsert: upsert, Executions: executions, Resolved: resolved)).ConfigureAwait(false);
                }
                finally
                {
                    ResilienceContextPool.Shared.Return(context);
                }
            }

            // The plan the write used: resolving it again here would run outside the pipeline (a lost connection would escape).
            _telemetry.Succeeded(activity, operation, resolved.Value!, result.Outcome, executions.Value, started);
            return result;
        }
        catch (Exception ex)
        {
            _telemetry.Failed(activity, operation, mapping, ex, started);
            throw;
        }
    }

    private async Task<WriteResult<T>> WriteAsync<T>(WritePlan plan, T row, NpgsqlTransaction? transaction, bool upsert, CancellationToken cancellationToken)
        where T : class
    {
        if (upsert && plan.UpsertDenied is not null)
        {
            throw new TableMappingException(plan.Mapping.DisplayName, plan.UpsertDenied);
        }

        if (upsert && plan.UpsertSql is null && plan.UpdateSql is null)
        {
            // Nothing to update besides the key: an upsert is an insert-or-get.
            var result = await WriteAsync(plan, row, transaction, upsert: false, cancellationToken).ConfigureAwait(false);
            return result.Outcome == WriteOutcome.Existing ? new WriteResult<T>(WriteOutcome.Unchanged, result.Row, result.Attempts) : result;
        }

        var values = ReadValues(plan, row, checkKeys: true);
        var connection = transaction is null
            ? await OpenAsync(_dataSource, cancellationToken).ConfigureAwait(false)
            : ConnectionOf(transaction);
        var strategy = upsert ? null : StrategyOf(plan);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                WriteResult<T>? result = null;
                if (attempt == 1 && strategy is { SelectFirst: true })
                {
                    result = await BatchAsync<T>(plan, values, connection, transaction, Statement.Reselect(plan, WriteOutcome.Existing), null, attempt, cancellationToken).ConfigureAwait(false);
                    strategy.SelectedFirst(result is not null);
                }

                result ??= upsert
                    ? await UpsertAttemptAsync<T>(plan, values, connection, transaction, attempt, cancellationToken).ConfigureAwait(false)
                    : await BatchAsync<T>(plan, values, connection, transaction, Statement.Insert(plan.InsertOrGetSql), Statement.Reselect(plan, WriteOutcome.Existing), attempt, cancellationToken).ConfigureAwait(false);
                if (result is not null)
                {
                    strategy?.Record(result.Outcome == WriteOutcome.Existing);
                    return result;
                }

                // The conflicting row is gone (deleted between the two statements) or invisible.
                if (transaction is not null && !await IsReadCommittedAsync(connection, transaction, cancellationToken).ConfigureAwait(false))
                {
                    // Under REPEATABLE READ / SERIALIZABLE every retry would read the same stale snapshot.
                    throw new TransientConflictException(
                        $"A row conflicting on {plan.Mapping.DisplayName} exists but is not visible to this transaction's snapshot. Retry the whole transaction.",
                        PostgresErrorCodes.SerializationFailure,
                        null);
                }

                _logger.ConflictingRowVanished(plan.Mapping.DisplayName, attempt, _maxAttempts);
                if (attempt >= _maxAttempts)
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

    // Upsert: the statement alone answers Inserted and Updated (xmax = 0 tells them apart); only Unchanged (the DO UPDATE's
    // WHERE was false, nothing returned) needs the re-select. A role that cannot read xmax inserts first and updates only
    // when that conflicted (UPDATE and re-select in one round trip): one more round trip on the update path, never a guess.
    private async Task<WriteResult<T>?> UpsertAttemptAsync<T>(WritePlan plan, object?[] values, NpgsqlConnection connection, NpgsqlTransaction? transaction, int attempt, CancellationToken cancellationToken)
        where T : class
    {
        if (plan.UpdateSql is { } update)
        {
            return await BatchAsync<T>(plan, values, connection, transaction, Statement.Insert(plan.InsertOrGetSql), null, attempt, cancellationToken).ConfigureAwait(false)
                ?? await BatchAsync<T>(plan, values, connection, transaction, new Statement(update, null, WriteOutcome.Updated, false), Statement.Reselect(plan, WriteOutcome.Unchanged), attempt, cancellationToken).ConfigureAwait(false);
        }

        return await BatchAsync<T>(plan, values, connection, transaction, new Statement(plan.UpsertSql!, null, WriteOutcome.Inserted, true), null, attempt, cancellationToken).ConfigureAwait(false)
            ?? await BatchAsync<T>(plan, values, connection, transaction, Statement.Reselect(plan, WriteOutcome.Unchanged), null, attempt, cancellationToken).ConfigureAwait(false);
    }

    // One statement and the row it returns: Subset selects the parameters it binds (null: every insert column), Outcome is
    // what a returned row means, Xmax that the row ends with the inserted flag (Inserted, else Updated).
    private sealed record Statement(string Sql, int[]? Subset, WriteOutcome Outcome, bool Xmax)
    {
        public static Statement Insert(string sql) => new(sql, null, WriteOutcome.Inserted, false);

        public static Statement Reselect(WritePlan plan, WriteOutcome outcome) => new(plan.ReselectSql, plan.ReselectParameters, outcome, false);
    }

    // One round trip. Insert-or-get: INSERT … DO NOTHING and the re-select are two statements of one batch, so under
    // READ COMMITTED the SELECT takes a fresh snapshot and sees a row that a concurrent transaction committed while the
    // INSERT waited on it (a single-statement CTE would not). Inside a caller's transaction the batch runs under a
    // savepoint, rolled back on any error (also a cancellation the server acted on), so the caller's transaction stays usable.
    private async Task<WriteResult<T>?> BatchAsync<T>(WritePlan plan, object?[] values, NpgsqlConnection connection, NpgsqlTransaction? transaction, Statement first, Statement? then, int attempt, CancellationToken cancellationToken)
        where T : class
    {
        using var batch = new NpgsqlBatch(connection, transaction);
        if (transaction is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SAVEPOINT {Savepoint}"));
        }

        var write = new NpgsqlBatchCommand(first.Sql);
        AddParameters(plan, write.Parameters, values, first.Subset);
        batch.BatchCommands.Add(write);
        if (then is not null)
        {
            var second = new NpgsqlBatchCommand(then.Sql);
            AddParameters(plan, second.Parameters, values, then.Subset);
            batch.BatchCommands.Add(second);
        }

        if (transaction is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"RELEASE SAVEPOINT {Savepoint}"));
        }

        try
        {
            if (_prepare)
            {
                // A no-op once this physical connection has prepared the SQL: Npgsql keeps prepared statements across pooled opens.
                await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }

            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                // SAVEPOINT returns no result set; Npgsql's reader starts at the first statement that does.
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var outcome = first.Xmax && !reader.GetBoolean(plan.Mapping.Columns.Count) ? WriteOutcome.Updated : first.Outcome;
                    return new WriteResult<T>(outcome, (T)Materialize(plan, reader, outcome), attempt);
                }

                if (then is not null)
                {
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                        ? new WriteResult<T>(then.Outcome, (T)Materialize(plan, reader, then.Outcome), attempt)
                        : null;
                }

                return null;
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
        catch (OperationCanceledException ex) when (transaction is not null && ex.InnerException is PostgresException)
        {
            // The server cancelled the batch (so SAVEPOINT ran): without this the caller's transaction would be aborted (25P02).
            await RollbackToSavepointAsync(connection, transaction, plan).ConfigureAwait(false);
            throw;
        }
    }

    // Every connection the writer opens: a failure to connect (server down, unreachable, restarting, bad credentials, no
    // such database) is a typed, transient DatabaseUnavailableException, so the pipeline retries it and HTTP answers 503.
    internal static async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            return await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
            var reason = ex is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : ex.InnerException?.Message ?? ex.Message;
            throw new DatabaseUnavailableException(
                $"Cannot connect to PostgreSQL at {builder.Host}:{builder.Port} (database \"{builder.Database}\", user \"{builder.Username}\"): {reason}",
                ex);
        }
    }

    private static NpgsqlConnection ConnectionOf(NpgsqlTransaction transaction)
        => transaction.Connection ?? throw new InvalidOperationException("The transaction has already been committed or rolled back.");

    // Catalog lookups for an error never run inside the caller's transaction: a failure there would abort it.
    private async Task<Exception> TranslateAsync(PostgresException error, NpgsqlConnection? connection, WritePlan plan, object?[] values, CancellationToken cancellationToken)
    {
        if (connection is not null)
        {
            return await _errors.TranslateAsync(error, connection, plan.Mapping, values, cancellationToken).ConfigureAwait(false);
        }

        var own = await OpenAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        await using (own.ConfigureAwait(false))
        {
            return await _errors.TranslateAsync(error, own, plan.Mapping, values, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> IsReadCommittedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand("SELECT pg_catalog.current_setting('transaction_isolation')", connection, transaction);
        var level = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return level is "read committed" or "read uncommitted";
    }

    private async Task RollbackToSavepointAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, WritePlan plan)
    {
        try
        {
            // Not cancellable: leaving the caller's transaction aborted would be worse than waiting for one round trip.
            using var command = new NpgsqlCommand($"ROLLBACK TO SAVEPOINT {Savepoint}; RELEASE SAVEPOINT {Savepoint}", connection, transaction);
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            _logger.SavepointRollbackFailed(plan.Mapping.DisplayName, ex);
        }
    }

    private static object?[] ReadValues(WritePlan plan, object row, bool checkKeys)
    {
        var columns = plan.Mapping.InsertColumns;
        var values = new object?[columns.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = columns[i].GetValue(row);
        }

        if (checkKeys)
        {
            foreach (var key in plan.NonNullableKeyColumns)
            {
                if (key.GetValue(row) is null)
                {
                    throw new ArgumentException(
                        $"{plan.Mapping.RowType.Name}.{key.Property.Name} is part of the conflict key of {plan.Mapping.DisplayName} and is null. The arbiter treats NULLs as distinct, so ON CONFLICT would never fire and every call would insert a new row.",
                        "row");
                }
            }
        }

        return values;
    }

    private static void AddParameters(WritePlan plan, NpgsqlParameterCollection parameters, object?[] values, int[]? subset)
    {
        var codecs = plan.Codecs.Insert;
        if (subset is null)
        {
            for (var i = 0; i < values.Length; i++)
            {
                parameters.Add(codecs[i].Parameter(values[i]));
            }

            return;
        }

        foreach (var index in subset)
        {
            parameters.Add(codecs[index].Parameter(values[index]));
        }
    }

    // Reads the row as stored. A value that cannot become its property (a stored enum label added after startup,
    // JSON that does not fit the type) must not look like a failed write: the row is there, so say so.
    private static object Materialize(WritePlan plan, NpgsqlDataReader reader, WriteOutcome outcome, int offset = 0)
    {
        var codecs = plan.Codecs.All;
        var values = new object?[codecs.Count];
        var column = 0;
        try
        {
            for (; column < values.Length; column++)
            {
                values[column] = codecs[column].Read(reader, offset + column);
            }

            column = -1;
            return plan.Mapping.Materialize(values);
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or JsonException or ArgumentException or OverflowException or NotSupportedException)
        {
            throw Unreadable(plan, reader, offset, outcome, column < 0 ? null : codecs[column].Column.ColumnName, ex);
        }
    }

    private static UnreadableRowException Unreadable(WritePlan plan, NpgsqlDataReader reader, int offset, WriteOutcome outcome, string? column, Exception error)
    {
        var stored = new Dictionary<string, object?>(StringComparer.Ordinal);
        var columns = plan.Mapping.Columns;
        for (var i = 0; i < columns.Count; i++)
        {
            try
            {
                stored[columns[i].ColumnName] = reader.IsDBNull(offset + i) ? null : reader.GetValue(offset + i);
            }
            catch (Exception ex) when (ex is InvalidCastException or NotSupportedException or ArgumentException)
            {
                // Left out: Npgsql cannot read this column at all.
            }
        }

        var keyColumns = plan.Keys.Select(k => k.Column?.ColumnName).ToList();
        Dictionary<string, object?>? key = keyColumns.Count > 0 && keyColumns.All(c => c is not null && stored.ContainsKey(c))
            ? keyColumns.ToDictionary(c => c!, c => stored[c!], StringComparer.Ordinal)
            : null;
        return new UnreadableRowException(plan.Mapping.DisplayName, outcome, column, key, stored, error);
    }
}

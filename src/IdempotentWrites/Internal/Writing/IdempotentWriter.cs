// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using System.Data;
using System.Diagnostics;
using System.Text.Json;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Timeout;

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
    private readonly TimeSpan _timeout;
    private readonly SequenceDoctorOptions _sequenceOptions = new();
    private readonly ConcurrentDictionary<Type, object> _tables = new();
    private readonly ConcurrentDictionary<TableMapping, InsertOrGetStrategy> _strategies = new();

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
        MaxCoalescedRows = options.Value.CoalesceWrites ? options.Value.MaxCoalescedRows : 0;
        _prepare = options.Value.PrepareStatements && !options.Value.TransactionPooling;
        _healSequences = options.Value.HealSequences;
        _json = options.Value.JsonSerializerOptions ?? ColumnCodec.DefaultJsonOptions;
        _pipeline = pipeline;
        _telemetry = telemetry;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _errors = new ErrorTranslator(_logger);
        _timeout = options.Value.Timeout;
        TimeoutTicks = (long)(_timeout.TotalSeconds * Stopwatch.Frequency);

        // The first attempt of a write runs outside the pipeline only when it is the one built from these options: a
        // pipeline registered by the app (a circuit breaker, a rate limiter, its own timeout) sees every attempt.
        DirectFirstAttempt = WriterPipeline.IsDefault(pipeline);
    }

    public int MappingCount => _mappings.Count;

    internal NpgsqlDataSource DataSource => _dataSource;

    internal WriterTelemetry Telemetry => _telemetry;

    internal ILogger Logger => _logger;

    internal bool Prepare => _prepare;

    internal int MaxReselectAttempts => _maxAttempts;

    internal bool DirectFirstAttempt { get; }

    // 0 when calls are not coalesced (IdempotentWritesOptions.CoalesceWrites).
    internal int MaxCoalescedRows { get; }

    internal TimeSpan Timeout => _timeout;

    internal long TimeoutTicks { get; }

    // The adaptive insert-or-get strategy of a mapped table (see InsertOrGetStrategy).
    internal InsertOrGetStrategy StrategyOf(TableMapping mapping)
        => _strategies.TryGetValue(mapping, out var strategy) ? strategy : _strategies.GetOrAdd(mapping, static _ => new InsertOrGetStrategy());

    internal InsertOrGetStrategy StrategyOf(WritePlan plan) => StrategyOf(plan.Mapping);

    public Task<WriteResult<T>> InsertOrGetAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        return TableOf<T>().WriteAsync(row, AmbientTransaction.Current, upsert: false, cancellationToken);
    }

    public Task<WriteResult<T>> InsertOrGetAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(transaction);
        return TableOf<T>().WriteAsync(row, transaction, upsert: false, cancellationToken);
    }

    public Task<WriteResult<T>> UpsertAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        return TableOf<T>().WriteAsync(row, AmbientTransaction.Current, upsert: true, cancellationToken);
    }

    public Task<WriteResult<T>> UpsertAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(transaction);
        return TableOf<T>().WriteAsync(row, transaction, upsert: true, cancellationToken);
    }

    public Task<T> InsertAsync<T>(T row, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        return TableOf<T>().InsertAsync(row, AmbientTransaction.Current, cancellationToken);
    }

    public Task<T> InsertAsync<T>(T row, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(transaction);
        return TableOf<T>().InsertAsync(row, transaction, cancellationToken);
    }

    public async Task<TResult> ExecuteInTransactionAsync<TResult>(
        Func<NpgsqlTransaction, CancellationToken, Task<TResult>> work,
        IsolationLevel isolationLevel = IsolationLevel.ReadCommitted,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfAmbient(nameof(ExecuteInTransactionAsync));
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
                        var transaction = await connection.BeginTransactionAsync(
                            state.IsolationLevel,
                            context.CancellationToken).ConfigureAwait(false);
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
                                var translated = await state.Errors.TranslateAsync(
                                    ex,
                                    connection,
                                    null,
                                    null,
                                    CancellationToken.None).ConfigureAwait(false);
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
    internal Task<NpgsqlCommand> ReselectCommandAsync<T>(T row, CancellationToken cancellationToken)
        where T : class
        => TableOf<T>().ReselectCommandAsync(row, cancellationToken);

    // The per-table writer of T, created on first use. An app has one writer (one per service provider): the last one used
    // for T sits in a static field of T's own, so a call reads one field instead of looking T up in a dictionary.
    private TableWriter<T> TableOf<T>()
        where T : class
        => LastTable<T>.Value is { } last && ReferenceEquals(last.Owner, this) ? last : AddTable<T>();

    private TableWriter<T> AddTable<T>()
        where T : class
    {
        var table = _tables.TryGetValue(typeof(T), out var known)
            ? (TableWriter<T>)known
            : (TableWriter<T>)_tables.GetOrAdd(
                typeof(T),
                static (_, state) => new TableWriter<T>(state.Writer, state.Mapping, state.Writer.StrategyOf(state.Mapping)),
                (Writer: this, Mapping: MappingOf(typeof(T))));
        LastTable<T>.Value = table;
        return table;
    }

    private TableMapping MappingOf(Type rowType)
        => _mappings.TryGetValue(rowType, out var mapping)
            ? mapping
            : throw new InvalidOperationException(
                $"Type {rowType.Name} has no table mapping; register it with " +
                $"services.AddIdempotentWrites(...).MapTable<{rowType.Name}>(\"table\", t => t.ConflictOn(...)).");

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

    internal bool HealsSequences(UniqueViolationException violation)
        => _healSequences && violation.IsGeneratedKey && violation.TableName is not null;

    // Self-healing (opt-in): a conflict on a key the database generated means its sequence is behind the data. Repair
    // that column's sequence(s); the caller writes once more. Never inside a caller's transaction: the repair locks the table.
    internal async Task HealAsync(TableMapping mapping, UniqueViolationException violation, CancellationToken cancellationToken)
    {
        var repaired = 0;
        foreach (var column in violation.Columns)
        {
            var repairs = await SequenceRepairer.RepairColumnsAsync(
                _dataSource,
                _sequenceOptions,
                _logger,
                violation.SchemaName,
                violation.TableName!,
                [column],
                cancellationToken).ConfigureAwait(false);
            repaired += repairs.Count(r => r.Outcome == SequenceRepairOutcome.Repaired);
            _logger.SequenceHealed(mapping.DisplayName, column, violation.ConstraintName, repairs.Count);
        }

        _telemetry.SequencesRepaired(mapping.DisplayName, repaired);
    }

    // The resilience pipeline around a write's attempts. After a failed first attempt made outside it (deadline set), the
    // remaining time of the call's Timeout bounds the pipeline too: the whole call never runs longer than one Timeout.
    internal async Task<TResult> RunInPipelineAsync<TResult, TState>(
        string operation,
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> attempt,
        TState state,
        long deadline,
        CancellationToken cancellationToken)
    {
        using var remaining = deadline == 0 ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        remaining?.CancelAfter(
            Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline) is var left && left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1));
        var context = ResilienceContextPool.Shared.Get(operation, remaining?.Token ?? cancellationToken);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(attempt, context, state).ConfigureAwait(false);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        catch (OperationCanceledException ex) when (remaining is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutRejectedException($"The operation didn't complete within the allowed timeout of '{_timeout}'.", _timeout, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // Every connection the writer opens: a failure to connect (server down, unreachable, restarting, bad credentials, no
    // such database) is a typed, transient DatabaseUnavailableException, so the pipeline retries it and HTTP answers 503.
    internal static ValueTask<NpgsqlConnection> OpenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        // An idle pooled connection is handed over synchronously: no async frame on that path.
        var open = dataSource.OpenConnectionAsync(cancellationToken);
        return open.IsCompletedSuccessfully ? open : AwaitedAsync(open, dataSource);

        static async ValueTask<NpgsqlConnection> AwaitedAsync(ValueTask<NpgsqlConnection> open, NpgsqlDataSource dataSource)
        {
            try
            {
                return await open.ConfigureAwait(false);
            }
            catch (NpgsqlException ex)
            {
                var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
                var reason = ex is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : ex.InnerException?.Message ?? ex.Message;
                throw new DatabaseUnavailableException(
                    $"Cannot connect to PostgreSQL at {builder.Host}:{builder.Port} (database \"{builder.Database}\", " +
                    $"user \"{builder.Username}\"): {reason}",
                    ex);
            }
        }
    }

    internal static NpgsqlConnection ConnectionOf(NpgsqlTransaction transaction)
        => transaction.Connection ?? throw new InvalidOperationException("The transaction has already been committed or rolled back.");

    // Catalog lookups for an error never run inside the caller's transaction: a failure there would abort it.
    // Bulk writes and ExecuteInTransactionAsync commit on their own: inside an ambient transaction (a transactional
    // idempotent request) they would commit whatever the request's outcome, so they refuse rather than break exactly-once.
    private static void ThrowIfAmbient(string method)
    {
        if (AmbientTransaction.Current is not null)
        {
            throw new InvalidOperationException(
                $"{method} commits on its own, but an ambient transaction is current (a transactional idempotent request " +
                "enters its transaction for the handler), so its writes would not roll back with the request. Write " +
                "through the transaction row by row, or call it within AmbientTransaction.Suppress() to commit " +
                "deliberately outside the request's transaction.");
        }
    }

    internal async Task<Exception> TranslateAsync(
        PostgresException error,
        NpgsqlConnection? connection,
        TableMapping mapping,
        object?[] values,
        CancellationToken cancellationToken)
    {
        if (connection is not null)
        {
            return await _errors.TranslateAsync(error, connection, mapping, values, cancellationToken).ConfigureAwait(false);
        }

        var own = await OpenAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        await using (own.ConfigureAwait(false))
        {
            return await _errors.TranslateAsync(error, own, mapping, values, cancellationToken).ConfigureAwait(false);
        }
    }

    // The table writer of T last used, of whichever writer used it (see TableOf).
    private static class LastTable<T>
        where T : class
    {
        public static TableWriter<T>? Value { get; set; }
    }
}

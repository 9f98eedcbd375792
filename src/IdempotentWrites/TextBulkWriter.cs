// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Bulk;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Polly;

namespace IdempotentWrites;

/// <summary>
/// Bulk writes of rows of text fields, for CSV-like data without a mapped type: the untyped counterpart of
/// <see cref="IIdempotentWriter.InsertManyAsync{T}(IAsyncEnumerable{T}, BulkWriteOptions?, CancellationToken)"/> and what
/// <c>iw import</c> runs.
/// <para/>
/// A row is any <see cref="IReadOnlyList{T}"/> of strings (a <c>string?[]</c>, or a type of yours that also carries, say, a
/// file line number), one field per column of the <see cref="TextBulkTarget"/>; <see langword="null"/> is SQL NULL. A row that
/// is already CSV text (a line of a file) can implement <see cref="ICsvRecord"/>: its text is sent as it is. Rows stream
/// in chunks of <see cref="BulkWriteOptions.ChunkSize"/>: each chunk is copied as CSV text (<c>COPY … (FORMAT CSV)</c>) into a
/// temporary staging table shaped like the target, so PostgreSQL parses each field as its column's type (any type with a text
/// form: numbers, dates, <c>uuid</c>, <c>jsonb</c>, arrays, enums, domains), then one classifying
/// <c>INSERT … SELECT … ON CONFLICT</c> writes it in input order and commits (the next chunk is staged
/// meanwhile). The report counts what happened to every row, as for mapped rows; running the same import again
/// (after a failure or a cancellation) leaves the table one uninterrupted run would.
/// <para/>
/// The table, the columns and the key are checked against the catalog before any row is read. Explicit values for
/// <c>GENERATED ALWAYS AS IDENTITY</c> columns are written as given (<c>OVERRIDING SYSTEM VALUE</c>) and never updated, and the
/// sequences behind the written columns are moved past them afterwards (<see cref="BulkWriteOptions.SynchronizeSequences"/>).
/// A chunk is not retried: a transient fault stops the run like any other error, with the committed chunks reported.
/// <para/>
/// An instance holds no state besides its data source and logger and is safe to use from several threads.
/// </summary>
public sealed class TextBulkWriter
{
    private const string ReturnRowsUnsupported = "BulkWriteOptions.ReturnRows is not supported for text rows: " +
        "there is no mapped type to read the stored rows into. Leave it off.";

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly ErrorTranslator _errors;

    /// <summary>
    /// Initializes a new instance of the <see cref="TextBulkWriter"/> class.
    /// </summary>
    /// <param name="dataSource">The database to write to.</param>
    /// <param name="logger">The logger (chunks committed, runs completed or stopped), or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="dataSource"/> is <see langword="null"/>.</exception>
    public TextBulkWriter(NpgsqlDataSource dataSource, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _logger = logger ?? NullLogger.Instance;
        _errors = new ErrorTranslator(_logger);
    }

    /// <summary>
    /// Inserts the rows, skipping those whose conflict key is already stored. The first row of a key wins; later rows with the
    /// same key are counted in <see cref="BulkWriteReport.DuplicatesInInput"/>, rows whose key someone else stored in
    /// <see cref="BulkWriteReport.Existing"/>.
    /// </summary>
    /// <typeparam name="TRow">The row type: a list of fields, one per column of <paramref name="target"/>.</typeparam>
    /// <param name="target">The table, the columns of the fields and the conflict key.</param>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size, progress receiver and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the import cleanly after the chunk in flight (see <see cref="BulkWriteCanceledException"/>).</param>
    /// <returns>The report: inserted, existing and duplicate counts, chunks, elapsed time, and the rows skipped.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="target"/> or <paramref name="rows"/> is
    /// <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when an option is out of range (the message names it).</exception>
    /// <exception cref="ArgumentException">
    /// Thrown before any row is read when <see cref="BulkWriteOptions.ReturnRows"/> is set, or the target does not fit the
    /// table: it does not exist, a column does not exist, is generated or is named twice, a key column is not among the
    /// columns, or no immediate unique index or constraint is on exactly the key columns. The message says what to fix.
    /// </exception>
    /// <exception cref="BulkWriteCanceledException">Thrown when canceled; carries the totals of the committed chunks.</exception>
    /// <exception cref="BulkWriteException">
    /// Thrown when a chunk fails (rolled back whole) or the input cannot be read (a null row, a row with the wrong number of
    /// fields, an exception of the enumerator); carries the totals of the committed chunks and the cause: a
    /// <see cref="BulkValueException"/> for a field PostgreSQL cannot convert, a typed violation such as
    /// <see cref="UniqueViolationException"/> on another unique constraint, or the <c>PostgresException</c>.
    /// </exception>
    public Task<BulkWriteReport<TRow>> InsertManyAsync<TRow>(
        TextBulkTarget target,
        IAsyncEnumerable<TRow> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where TRow : IReadOnlyList<string?>
        => RunAsync(BulkMode.Insert, target, rows, options, cancellationToken);

    /// <summary>
    /// Inserts the rows, or updates the stored rows with the same conflict keys: every column of the target but the key
    /// columns (and <c>GENERATED ALWAYS AS IDENTITY</c> columns) is set from the row. The last row of a key in a chunk wins,
    /// the earlier ones are counted in <see cref="BulkWriteReport.DuplicatesInInput"/>; rows that already hold the incoming
    /// values are not rewritten (<see cref="BulkWriteReport.Unchanged"/>). Errors as for
    /// <see cref="InsertManyAsync{TRow}(TextBulkTarget, IAsyncEnumerable{TRow}, BulkWriteOptions?, CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="TRow">The row type: a list of fields, one per column of <paramref name="target"/>.</typeparam>
    /// <param name="target">The table, the columns of the fields and the conflict key.</param>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size, progress receiver and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the operation cleanly after the chunk in flight.</param>
    /// <returns>The report: inserted, updated, unchanged and duplicate counts.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="target"/> or <paramref name="rows"/> is
    /// <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown before any row is read when the target does not fit the table.</exception>
    /// <exception cref="BulkWriteCanceledException">Thrown when canceled; carries the totals of the committed chunks.</exception>
    /// <exception cref="BulkWriteException">Thrown when a chunk fails or the input cannot be read; carries the
    /// committed totals and the cause.</exception>
    public Task<BulkWriteReport<TRow>> UpsertManyAsync<TRow>(
        TextBulkTarget target,
        IAsyncEnumerable<TRow> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where TRow : IReadOnlyList<string?>
        => RunAsync(BulkMode.Upsert, target, rows, options, cancellationToken);

    /// <summary>
    /// Reports which keys of the rows are already stored, and which repeat inside the input, without writing anything: the
    /// rows are staged in one transaction that is rolled back, so every field is still parsed as its column's type.
    /// <see cref="BulkWriteReport.Inserted"/> counts the rows an insert would insert at this moment.
    /// </summary>
    /// <typeparam name="TRow">The row type: a list of fields, one per column of <paramref name="target"/>.</typeparam>
    /// <param name="target">The table, the columns of the fields and the conflict key.</param>
    /// <param name="rows">The rows, enumerated once.</param>
    /// <param name="options">The chunk size and report options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">A token that cancels the preview.</param>
    /// <returns>A report with <see cref="BulkWriteReport.IsPreview"/> set, the existing rows and the duplicates.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="target"/> or <paramref name="rows"/> is
    /// <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown before any row is read when the target does not fit the table.</exception>
    /// <exception cref="BulkWriteException">Thrown when a field cannot be converted or the input cannot be read.</exception>
    public Task<BulkWriteReport<TRow>> PreviewConflictsAsync<TRow>(
        TextBulkTarget target,
        IAsyncEnumerable<TRow> rows,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where TRow : IReadOnlyList<string?>
        => RunAsync(BulkMode.Preview, target, rows, options, cancellationToken);

    private async Task<BulkWriteReport<TRow>> RunAsync<TRow>(
        BulkMode mode,
        TextBulkTarget target,
        IAsyncEnumerable<TRow> rows,
        BulkWriteOptions? options,
        CancellationToken cancellationToken)
        where TRow : IReadOnlyList<string?>
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(rows);
        options ??= new BulkWriteOptions();
        options.Validate();
        if (options.ReturnRows)
        {
            throw new ArgumentException(ReturnRowsUnsupported, nameof(options));
        }

        var resolved = await TextTarget.ResolveAsync(
            _dataSource,
            target.SchemaName,
            target.TableName,
            target.Columns,
            target.KeyColumns,
            TextTarget.Api,
            cancellationToken).ConfigureAwait(false);
        var table = new BulkTable
        {
            Schema = resolved.Schema,
            Table = resolved.Table,

            // Staged as text: the COPY parses each field into the staging table, whose columns have the table's types.
            Columns = [.. resolved.Columns.Select(c => new BulkColumn(c, "text"))],
            Keys = [.. resolved.Keys.Select(Sql.Quote)],
            ArbiterClause = "(" + string.Join(", ", resolved.Keys.Select(Sql.Quote)) + ")",
            UpdateColumns = [.. resolved.UpdateColumns.Select(Sql.Quote)],
            OverridingSystemValue = resolved.OverridingSystemValue,
            ProbeFirst = await WriteTargetCatalog.ReadProbeFirstAsync(
                _dataSource,
                Sql.QualifiedName(resolved.Schema, resolved.Table),
                cancellationToken).ConfigureAwait(false),
        };
        var copy = BulkSql.CopyCsv(table);
        var engine = new BulkEngine<TRow>
        {
            DataSource = _dataSource,
            Pipeline = ResiliencePipeline.Empty,
            Table = table,
            Mode = mode,
            Options = options,
            Logger = _logger,
            StageAsync = (connection, chunk, first, token) => TextStaging.StageAsync(connection, copy, chunk, first, token),
            TranslateAsync = TranslateAsync,
            SequenceColumns = resolved.Columns,
        };
        return await engine.RunAsync(
            TextStaging.CheckedAsync(rows, resolved.Columns.Count, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    // A chunk's error names a constraint but no single row: translated without values, on its own connection.
    private async Task<Exception> TranslateAsync(PostgresException error, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await _errors.TranslateAsync(error, connection, null, null, cancellationToken).ConfigureAwait(false);
        }
    }
}

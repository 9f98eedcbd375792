// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Sequences;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace IdempotentWrites;

/// <summary>
/// Finds and repairs sequence drift: serial, identity and <c>DEFAULT nextval(...)</c> columns whose sequence lags behind
/// the data (after <c>pg_restore</c>, a COPY or a migration with explicit ids), so that default inserts fail with
/// <c>duplicate key value violates unique constraint</c>.
/// <para/>
/// Columns are discovered from the catalog's dependencies (<c>pg_depend</c>, <c>pg_attrdef</c>) in every schema: identity
/// ALWAYS and BY DEFAULT, serial, and defaults on sequences the column does not own or that several tables share; key and
/// non-key columns; partitioned tables (scanned once). A repair moves a sequence so that the next default insert gets exactly
/// the next free value of the sequence's grid (<c>START + k × INCREMENT</c>), or <c>START</c> for empty tables, never backwards,
/// each sequence in its own transaction with its tables locked against inserts.
/// <para/>
/// An instance holds no state besides its options and is safe to use from several threads.
/// </summary>
public sealed class SequenceDoctor
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly SequenceDoctorOptions _options;
    private readonly ILogger _logger;

    /// <summary>
    /// Initializes a new instance of the <see cref="SequenceDoctor"/> class with default options.
    /// </summary>
    /// <param name="dataSource">The database to check and repair.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="dataSource"/> is <see langword="null"/>.</exception>
    public SequenceDoctor(NpgsqlDataSource dataSource, ILogger? logger = null)
        : this(dataSource, new SequenceDoctorOptions(), logger)
    {
    }

    /// <summary>
    /// Initializes a new instance of the <see cref="SequenceDoctor"/> class.
    /// </summary>
    /// <param name="dataSource">The database to check and repair.</param>
    /// <param name="options">The options; copied, so later changes have no effect.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="dataSource"/> or <paramref name="options"/>
    /// is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="options"/> are invalid.</exception>
    public SequenceDoctor(NpgsqlDataSource dataSource, SequenceDoctorOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        SequenceDoctorOptionsCustomValidator.ThrowIfInvalid(options, nameof(options));
        _dataSource = dataSource;
        _options = new SequenceDoctorOptions { NearExhaustionThreshold = options.NearExhaustionThreshold, LockTimeout = options.LockTimeout };
        foreach (var schema in options.Schemas)
        {
            _options.Schemas.Add(schema);
        }

        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Compares every sequence that feeds a column with the data of all its columns. Changes nothing.
    /// </summary>
    /// <param name="cancellationToken">The token to cancel the check.</param>
    /// <returns>One finding per sequence.</returns>
    public Task<SequenceCheckReport> CheckAsync(CancellationToken cancellationToken = default) => CheckAsync(null, cancellationToken);

    /// <summary>
    /// Compares every sequence that feeds a column with the data of all its columns, reporting progress. Changes nothing.
    /// </summary>
    /// <param name="progress">Receives the number of reads done, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The token to cancel the check.</param>
    /// <returns>One finding per sequence.</returns>
    public async Task<SequenceCheckReport> CheckAsync(IProgress<SequenceCheckProgress>? progress, CancellationToken cancellationToken = default)
        => (await CheckCoreAsync(progress, cancellationToken).ConfigureAwait(false)).Report;

    /// <summary>
    /// Repairs every drifted sequence, each in its own transaction; sequences that are healthy or ahead are left alone, and
    /// sequences the role cannot read or update are reported and skipped.
    /// </summary>
    /// <param name="cancellationToken">The token to cancel the run (a repair in progress is rolled back).</param>
    /// <returns>The check and one repair per drifted or skipped sequence.</returns>
    public Task<SequenceRepairReport> FixAsync(CancellationToken cancellationToken = default) => FixAsync(null, cancellationToken);

    /// <summary>
    /// Repairs every drifted sequence, each in its own transaction, reporting the progress of the check that precedes it.
    /// </summary>
    /// <param name="progress">Receives the number of reads done by the check, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The token to cancel the run (a repair in progress is rolled back).</param>
    /// <returns>The check and one repair per drifted or skipped sequence.</returns>
    public async Task<SequenceRepairReport> FixAsync(IProgress<SequenceCheckProgress>? progress, CancellationToken cancellationToken = default)
    {
        var (sequences, check) = await CheckCoreAsync(progress, cancellationToken).ConfigureAwait(false);
        var repairs = new List<SequenceRepair>();
        foreach (var finding in check.Findings.Where(NeedsRepair))
        {
            var sequence = sequences.First(s => s.Schema == finding.Schema && s.Name == finding.Name);
            repairs.Add(
                await SequenceRepairer.RepairAsync(_dataSource, sequence, finding, _options, _logger, cancellationToken).ConfigureAwait(false));
        }

        return new SequenceRepairReport(false, check, repairs);
    }

    /// <summary>
    /// A dry run of <see cref="FixAsync(CancellationToken)"/>: checks, and returns the statements each repair would run. Changes nothing.
    /// </summary>
    /// <param name="cancellationToken">The token to cancel the check.</param>
    /// <returns>The check and one planned (or skipped) repair per drifted or skipped sequence.</returns>
    public Task<SequenceRepairReport> PlanFixAsync(CancellationToken cancellationToken = default) => PlanFixAsync(null, cancellationToken);

    /// <summary>
    /// A dry run of <see cref="FixAsync(CancellationToken)"/>, reporting progress: checks, and returns the statements
    /// each repair would run. Changes nothing.
    /// </summary>
    /// <param name="progress">Receives the number of reads done by the check, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The token to cancel the check.</param>
    /// <returns>The check and one planned (or skipped) repair per drifted or skipped sequence.</returns>
    public async Task<SequenceRepairReport> PlanFixAsync(IProgress<SequenceCheckProgress>? progress, CancellationToken cancellationToken = default)
    {
        var (sequences, check) = await CheckCoreAsync(progress, cancellationToken).ConfigureAwait(false);
        var repairs = check.Findings.Where(NeedsRepair)
            .Select(f => SequenceRepairer.Plan(sequences.First(s => s.Schema == f.Schema && s.Name == f.Name), f, _options))
            .ToList();
        return new SequenceRepairReport(true, check, repairs);
    }

    /// <summary>
    /// Repairs the sequence (or sequences) that feed one column, comparing with every table that draws from them.
    /// This is what a writer's self-healing calls after a primary-key conflict on a database-generated key.
    /// </summary>
    /// <param name="schema">The table's schema, or <see langword="null"/> for the first match on the <c>search_path</c>.</param>
    /// <param name="table">The table, taken literally (case-sensitive).</param>
    /// <param name="column">The column, taken literally (case-sensitive).</param>
    /// <param name="cancellationToken">The token to cancel the repair.</param>
    /// <returns>One repair per sequence feeding the column; empty when the table or column does not exist or no sequence feeds it.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="table"/> or <paramref name="column"/> is blank.</exception>
    public Task<IReadOnlyList<SequenceRepair>> RepairColumnAsync(
        string? schema,
        string table,
        string column,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        ArgumentException.ThrowIfNullOrWhiteSpace(column);
        return RepairColumnsAsync(schema, table, [column], cancellationToken);
    }

    // Repairs the sequences behind any of the given columns of one table (after a bulk write with explicit values).
    internal Task<IReadOnlyList<SequenceRepair>> RepairColumnsAsync(
        string? schema,
        string table,
        IReadOnlyCollection<string> columns,
        CancellationToken cancellationToken)
        => SequenceRepairer.RepairColumnsAsync(_dataSource, _options, _logger, schema, table, columns, cancellationToken);

    /// <summary>
    /// Converts a serial column to <c>GENERATED BY DEFAULT AS IDENTITY</c> in one transaction: drops the old default and the
    /// sequence the column owns, adds the identity (same name, increment and bounds; grants on the old sequence re-applied),
    /// and sets it so the next default insert gets the value the serial would have given (or the next free value, if the
    /// serial was behind its data).
    /// </summary>
    /// <param name="schema">The table's schema, or <see langword="null"/> for the first match on the <c>search_path</c>.</param>
    /// <param name="table">The table, taken literally (case-sensitive).</param>
    /// <param name="column">The column, or <see langword="null"/> when the table has exactly one serial column.</param>
    /// <param name="cancellationToken">The token to cancel the conversion.</param>
    /// <returns>The conversion, with the statements it ran.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="table"/> is blank or the table or column does not exist.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the column is not a serial column (an identity already,
    /// a sequence it does not own, a sequence shared with other columns).</exception>
    public Task<IdentityConversion> ConvertToIdentityAsync(
        string? schema,
        string table,
        string? column,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        return IdentityConverter.ConvertAsync(_dataSource, schema, table, column, apply: true, _options, _logger, cancellationToken);
    }

    /// <summary>
    /// A dry run of <see cref="ConvertToIdentityAsync(string, string, string, CancellationToken)"/>: returns the
    /// statements it would run. Changes nothing.
    /// </summary>
    /// <param name="schema">The table's schema, or <see langword="null"/> for the first match on the <c>search_path</c>.</param>
    /// <param name="table">The table, taken literally (case-sensitive).</param>
    /// <param name="column">The column, or <see langword="null"/> when the table has exactly one serial column.</param>
    /// <param name="cancellationToken">The token to cancel the planning.</param>
    /// <returns>The planned conversion (<see cref="IdentityConversion.Applied"/> is <see langword="false"/>).</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="table"/> is blank or the table or column does not exist.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the column is not a serial column.</exception>
    public Task<IdentityConversion> PlanIdentityConversionAsync(
        string? schema,
        string table,
        string? column,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        return IdentityConverter.ConvertAsync(_dataSource, schema, table, column, apply: false, _options, _logger, cancellationToken);
    }

    /// <summary>
    /// Says which of the four causes of a duplicate-key error applies: sequence drift, a natural-key duplicate, an explicit-id
    /// conflict, or a race. Reads the catalog, the sequences feeding the key and, when the text holds the key values
    /// (<c>Key (id)=(42) already exists.</c>), whether that row exists. Changes nothing.
    /// </summary>
    /// <param name="errorTextOrConstraint">The pasted error text (any <c>lc_messages</c> language), or a constraint or
    /// unique index name, optionally <c>schema.name</c>.</param>
    /// <param name="cancellationToken">The token to cancel the diagnosis.</param>
    /// <returns>The diagnosis, or <see langword="null"/> when no unique constraint or index named in the text exists.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="errorTextOrConstraint"/> is blank.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the name matches constraints in several schemas, none on
    /// the <c>search_path</c>.</exception>
    public Task<DuplicateKeyDiagnosis?> DiagnoseAsync(string errorTextOrConstraint, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(errorTextOrConstraint);
        return DuplicateKeyDiagnoser.DiagnoseAsync(_dataSource, errorTextOrConstraint, _options, cancellationToken);
    }

    // Skipped sequences are listed too (the role cannot read or update them), except those that feed no comparable column:
    // such a sequence has no data to be behind, so it never needs a repair.
    private static bool NeedsRepair(SequenceFinding finding)
        => finding.Status == SequenceStatus.Drifted
        || (finding.Status == SequenceStatus.Skipped && finding.Columns.Any(c => c.NotComparedReason is null));

    private async Task<(
        List<SequenceInfo> Sequences,
        SequenceCheckReport Report)> CheckCoreAsync(IProgress<SequenceCheckProgress>? progress, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        List<SequenceInfo> sequences;
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Every link is discovered even when schemas are filtered: a sequence's data is compared across all its tables.
            sequences = await SequenceCatalog.DiscoverAsync(connection, null, null, cancellationToken).ConfigureAwait(false);
        }

        if (_options.Schemas.Count > 0)
        {
            var schemas = _options.Schemas.ToHashSet(StringComparer.Ordinal);
            sequences.RemoveAll(s => !schemas.Contains(s.Schema) && !s.Links.Any(l => schemas.Contains(l.Schema)));
        }

        var findings = await SequenceScanner.ScanAsync(_dataSource, sequences, _options, progress, cancellationToken).ConfigureAwait(false);
        var report = new SequenceCheckReport(findings, stopwatch.Elapsed);
        foreach (var finding in report.Drifted)
        {
            _logger.SequenceDriftFound(finding.DisplayName, SequenceText.Value(finding.NextValue), SequenceText.Value(finding.RequiredNextValue));
        }

        foreach (var finding in report.NearlyExhausted)
        {
            _logger.SequenceNearlyExhausted(finding.DisplayName, finding.UsedFraction * 100);
        }

        _logger.SequenceCheckCompleted(
            findings.Count,
            stopwatch.ElapsedMilliseconds,
            report.Drifted.Count,
            report.Skipped.Count,
            report.NearlyExhausted.Count);
        return (sequences, report);
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.Internal.Sequences;

// Repairs one sequence in its own transaction, so one failure never undoes or blocks the others.
//
// Locking: setval() is not transactional and PostgreSQL cannot LOCK a sequence, so the transaction first locks every table
// that draws from the sequence in SHARE ROW EXCLUSIVE mode. An INSERT takes ROW EXCLUSIVE on its table before it evaluates
// its defaults, so from then on no insert into those tables can call nextval() or add rows: the MAX read next is final, and
// inserts that were already running (their values drawn, rows not yet committed) have finished, because the lock waited for
// them. Only a session calling nextval() directly can still move the sequence, which is why the setval statement compares
// against the sequence in the same statement and only ever moves it forward.
internal static class SequenceRepairer
{
    public static SequenceRepair Plan(SequenceInfo sequence, SequenceFinding finding, SequenceDoctorOptions options)
    {
        var columns = sequence.ToColumns();
        var blocker = finding.Status == SequenceStatus.Skipped ? finding.Reason : SequenceAccess.RepairBlocker(sequence);
        if (blocker is not null)
        {
            return Skip(sequence, finding.NextValue, finding.DataExtreme, blocker, []);
        }

        if (finding.RequiredNextValue is not { } target)
        {
            return Skip(sequence, finding.NextValue, finding.DataExtreme, finding.Reason!, []);
        }

        var statements = new List<string>
        {
            SequenceSql.Begin,
            SequenceSql.SetLockTimeout(options.LockTimeout).Display,
            SequenceSql.Lock(sequence.Links).Display,
            SequenceSql.ReadState(sequence).Display,
        };
        statements.AddRange(sequence.Compared.Select(l => SequenceSql.ReadExtreme(l, sequence.IsDescending).Display));
        statements.Add(SequenceSql.SetValue(sequence, target).Display);
        statements.Add(SequenceSql.ReadState(sequence).Display);
        statements.Add(SequenceSql.Commit);
        return new SequenceRepair(
            sequence.Schema,
            sequence.Name,
            columns,
            SequenceRepairOutcome.Planned,
            finding.NextValue,
            target,
            finding.DataExtreme,
            target,
            null,
            statements);
    }

    // Repairs the sequences behind any of the given columns of one table: after a bulk write with explicit values, or when
    // the writer's self-healing met a conflict on a generated key.
    public static async Task<IReadOnlyList<SequenceRepair>> RepairColumnsAsync(
        NpgsqlDataSource dataSource,
        SequenceDoctorOptions options,
        ILogger logger,
        string? schema,
        string table,
        IReadOnlyCollection<string> columns,
        CancellationToken cancellationToken)
    {
        List<SequenceInfo> sequences;
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (await SequenceCatalog.ResolveTableAsync(connection, schema, table, cancellationToken).ConfigureAwait(false) is not { } tableOid)
            {
                return [];
            }

            sequences = await SequenceCatalog.DiscoverAsync(connection, null, [tableOid], cancellationToken).ConfigureAwait(false);
            sequences.RemoveAll(s => !s.Links.Any(l => l.TableOid == tableOid && columns.Contains(l.Column)));
        }

        var repairs = new List<SequenceRepair>(sequences.Count);
        foreach (var sequence in sequences)
        {
            repairs.Add(await RepairAsync(dataSource, sequence, null, options, logger, cancellationToken).ConfigureAwait(false));
        }

        return repairs;
    }

    public static async Task<SequenceRepair> RepairAsync(
        NpgsqlDataSource dataSource,
        SequenceInfo sequence,
        SequenceFinding? finding,
        SequenceDoctorOptions options,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        if (finding?.Status == SequenceStatus.Skipped)
        {
            logger.SequenceRepairSkipped(sequence.DisplayName, finding.Reason!);
            return Skip(sequence, null, null, finding.Reason!, []);
        }

        if (SequenceAccess.RepairBlocker(sequence) is { } blocker)
        {
            logger.SequenceRepairSkipped(sequence.DisplayName, blocker);
            return Skip(sequence, finding?.NextValue, finding?.DataExtreme, blocker, []);
        }

        for (var attempt = 1; ; attempt++)
        {
            var statements = new List<string>();
            try
            {
                var repair = await RepairOnceAsync(dataSource, sequence, options, statements, cancellationToken).ConfigureAwait(false);
                if (repair.Outcome == SequenceRepairOutcome.Repaired)
                {
                    logger.SequenceRepaired(
                        sequence.DisplayName,
                        repair.NextValueBefore ?? 0,
                        repair.NextValueAfter ?? 0,
                        repair.DataExtreme?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
                }
                else if (repair.Outcome == SequenceRepairOutcome.Skipped)
                {
                    logger.SequenceRepairSkipped(sequence.DisplayName, repair.Reason!);
                }

                return repair;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < SequenceDoctorConstants.RepairAttempts)
            {
                // Lost a deadlock against a session that called nextval() directly and then inserted: try again.
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                var reason = $"could not lock the tables of sequence {sequence.DisplayName} within " +
                    $"{options.LockTimeout.TotalSeconds:0.###} s (a long transaction or DDL holds a conflicting lock)";
                logger.SequenceRepairSkipped(sequence.DisplayName, reason);
                return Skip(sequence, null, null, reason, statements);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                var reason = $"permission denied ({ex.SqlState}: {ex.MessageText})";
                logger.SequenceRepairSkipped(sequence.DisplayName, reason);
                return Skip(sequence, null, null, reason, statements);
            }
            catch (NpgsqlException ex)
            {
                logger.SequenceRepairFailed(sequence.DisplayName, ex);
                var message = ex is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : ex.Message;
                return new SequenceRepair(
                    sequence.Schema,
                    sequence.Name,
                    sequence.ToColumns(),
                    SequenceRepairOutcome.Failed,
                    null,
                    null,
                    null,
                    null,
                    message,
                    statements);
            }
        }
    }

    private static async Task<SequenceRepair> RepairOnceAsync(
        NpgsqlDataSource dataSource,
        SequenceInfo sequence,
        SequenceDoctorOptions options,
        List<string> statements,
        CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                statements.Add(SequenceSql.Begin);
                await ExecuteAsync(
                    connection,
                    transaction,
                    SequenceSql.SetLockTimeout(options.LockTimeout),
                    statements,
                    cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, SequenceSql.Lock(sequence.Links), statements, cancellationToken).ConfigureAwait(false);
                var before = await ReadStateAsync(connection, transaction, sequence, statements, cancellationToken).ConfigureAwait(false);
                var extremes = new List<long?>();
                foreach (var link in sequence.Compared)
                {
                    var statement = SequenceSql.ReadExtreme(link, sequence.IsDescending);
                    statements.Add(statement.Display);
                    using var command = statement.CreateCommand(connection, transaction);
                    var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                    extremes.Add(value is long l ? l : null);
                }

                var extreme = SequenceMath.Extreme(extremes, sequence.IsDescending);
                if (before is not { } state)
                {
                    statements.Add("ROLLBACK;");
                    return Skip(
                        sequence,
                        null,
                        extreme,
                        $"the role sees sequence {sequence.DisplayName} only through USAGE and it was never called, " +
                        "so its next value is unknown (grant SELECT on it)",
                        statements);
                }

                var next = state.NextValue(sequence);
                var evaluation = SequenceMath.Evaluate(sequence, next, extreme, options.NearExhaustionThreshold);
                if (evaluation.Status != SequenceStatus.Drifted)
                {
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    statements.Add(SequenceSql.Commit);
                    return evaluation.Status == SequenceStatus.Skipped
                        ? Skip(sequence, next, extreme, evaluation.Reason!, statements)
                        : new SequenceRepair(
                            sequence.Schema,
                            sequence.Name,
                            sequence.ToColumns(),
                            SequenceRepairOutcome.Unchanged,
                            next,
                            next,
                            extreme,
                            evaluation.RequiredNextValue,
                            null,
                            statements);
                }

                if (evaluation.RequiredNextValue is not { } target)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    statements.Add("ROLLBACK;");
                    return Skip(sequence, next, extreme, evaluation.Reason!, statements);
                }

                var set = SequenceSql.SetValue(sequence, target);
                statements.Add(set.Display);
                bool moved;
                using (var command = set.CreateCommand(connection, transaction))
                {
                    moved = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
                }

                var after = await ReadStateAsync(connection, transaction, sequence, statements, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                statements.Add(SequenceSql.Commit);
                return new SequenceRepair(
                    sequence.Schema,
                    sequence.Name,
                    sequence.ToColumns(),
                    moved ? SequenceRepairOutcome.Repaired : SequenceRepairOutcome.Unchanged,
                    next,
                    after?.NextValue(sequence),
                    extreme,
                    target,
                    null,
                    statements);
            }
        }
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        SqlStatement statement,
        List<string> statements,
        CancellationToken cancellationToken)
    {
        statements.Add(statement.Display);
        using var command = statement.CreateCommand(connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // The sequence's state (last value, is_called, bounds), with the statement recorded for the report. IdentityConverter
    // reads it the same way.
    public static async Task<SequenceState?> ReadStateAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        SequenceInfo sequence,
        List<string> statements,
        CancellationToken cancellationToken)
    {
        var statement = SequenceSql.ReadState(sequence);
        statements.Add(statement.Display);
        using var command = statement.CreateCommand(connection, transaction);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? SequenceState.Read(reader) : null;
        }
    }

    private static SequenceRepair Skip(SequenceInfo sequence, long? next, long? extreme, string reason, IReadOnlyList<string> statements)
        => new(sequence.Schema, sequence.Name, sequence.ToColumns(), SequenceRepairOutcome.Skipped, next, next, extreme, null, reason, statements);
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using IdempotentWrites.Internal.Postgres;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Sequences;

// The statements of a sequence check and repair. Identifiers are always quoted; values are parameters (and literals in Display).
internal static class SequenceSql
{
    public const string Begin = "BEGIN;";

    public const string Commit = "COMMIT;";

    public static SqlStatement SetLockTimeout(TimeSpan timeout)
    {
        var value = Number((long)Math.Ceiling(timeout.TotalMilliseconds)) + "ms";
        return new SqlStatement(
            "SELECT pg_catalog.set_config('lock_timeout', $1, true)",
            $"SELECT pg_catalog.set_config('lock_timeout', {Literal(value)}, true);",
            (value, NpgsqlDbType.Text));
    }

    // Reading the sequence relation needs SELECT on it; a role with only USAGE gets last_value from pg_sequence_last_value(),
    // which is NULL while is_called is false (then the state is unknown to it).
    public static SqlStatement ReadState(SequenceInfo sequence) => sequence.CanSelect && sequence.SchemaUsage
        ? new SqlStatement(
            $"SELECT last_value, is_called FROM {sequence.QualifiedName}",
            $"SELECT last_value, is_called FROM {sequence.QualifiedName};")
        : new SqlStatement(
            "SELECT pg_catalog.pg_sequence_last_value($1::regclass), true",
            $"SELECT pg_catalog.pg_sequence_last_value({RegClass(sequence)}), true;",
            (sequence.Oid, NpgsqlDbType.Oid));

    // MAX (MIN for a descending sequence) of one column. ONLY for plain tables: inheritance children that draw from the
    // same sequence are links of their own. A partitioned table is scanned whole (ONLY would see no rows); its partitions
    // are not links of their own (SequenceCatalog drops them), so no row is read twice.
    public static SqlStatement ReadExtreme(SequenceLink link, bool descending)
    {
        var sql = $"SELECT {(descending ? "min" : "max")}({Sql.Quote(link.Column)})::bigint FROM " +
            $"{(link.IsPartitioned ? string.Empty : "ONLY ")}{link.QualifiedTable}";
        return new SqlStatement(sql, sql + ";");
    }

    // SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE lock every INSERT/UPDATE/DELETE takes before it evaluates its
    // defaults, and with itself (two repairs of the same tables queue). Tables are locked in oid order so that two repairs
    // never lock the same tables in opposite orders.
    public static SqlStatement Lock(IEnumerable<SequenceLink> links)
    {
        var tables = links.DistinctBy(l => l.TableOid).OrderBy(l => l.TableOid).Select(l => l.QualifiedTable);
        var sql = $"LOCK TABLE {string.Join(", ", tables)} IN SHARE ROW EXCLUSIVE MODE";
        return new SqlStatement(sql, sql + ";");
    }

    // setval(s, v, false): the next nextval() returns exactly v (setval(s, v, true) would return v + increment; setval(s, NULL)
    // does nothing). The WHERE clause reads the sequence in the same statement and only ever moves it forward: a session
    // that called nextval() directly since the state was read cannot be moved back.
    public static SqlStatement SetValue(SequenceInfo sequence, long target)
    {
        var comparison = sequence.IsDescending ? ">" : "<";
        var guard = SequenceMath.GuardLastValue(target, sequence.Increment);
        if (sequence.CanSelect && sequence.SchemaUsage)
        {
            return new SqlStatement(
                $"SELECT pg_catalog.setval($1::regclass, $2, false) FROM {sequence.QualifiedName} WHERE CASE WHEN " +
                $"is_called THEN last_value {comparison} $3 ELSE last_value {comparison} $2 END",
                $"SELECT pg_catalog.setval({RegClass(sequence)}, {Number(target)}, false) FROM " +
                $"{sequence.QualifiedName} WHERE CASE WHEN is_called THEN last_value {comparison} {Number(guard)} " +
                $"ELSE last_value {comparison} {Number(target)} END;",
                (sequence.Oid, NpgsqlDbType.Oid),
                (target, NpgsqlDbType.Bigint),
                (guard, NpgsqlDbType.Bigint));
        }

        return new SqlStatement(
            $"SELECT pg_catalog.setval($1::regclass, $2, false) WHERE pg_catalog.pg_sequence_last_value($1::regclass) {comparison} $3",
            $"SELECT pg_catalog.setval({RegClass(sequence)}, {Number(target)}, false) WHERE " +
            $"pg_catalog.pg_sequence_last_value({RegClass(sequence)}) {comparison} {Number(guard)};",
            (sequence.Oid, NpgsqlDbType.Oid),
            (target, NpgsqlDbType.Bigint),
            (guard, NpgsqlDbType.Bigint));
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    // A string literal for display; standard_conforming_strings (on since PostgreSQL 9.1) makes doubling quotes enough.
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    public static string RegClass(SequenceInfo sequence) => Literal(sequence.QualifiedName);
}

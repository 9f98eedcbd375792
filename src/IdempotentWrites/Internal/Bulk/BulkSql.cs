// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Bulk;

// The statements of a bulk operation. Rows are staged (COPY) into a temporary table with an input ordinal, iw_ord;
// one statement per chunk then ranks the rows of each key (row_number, first or last by iw_ord), writes the first-ranked in key order
// (so concurrent imports lock keys in the same order and cannot deadlock on each other), and classifies every staged
// row in the same snapshot. Result rows are (iw_kind, iw_ord[, returning columns]); see the Kind constants.
internal static class BulkSql
{
    public const string Stage = "iw_bulk_stage";
    public const string Seen = "iw_bulk_seen";

    // Per input row (iw_ord is the row's input position).
    public const int KindInsertedRow = 0;
    public const int KindExisting = 1;
    public const int KindDuplicate = 2;
    public const int KindUpdatedRow = 3;
    public const int KindUnchanged = 4;

    // Totals (iw_ord carries the count) when the rows themselves are not returned.
    public const int KindInsertedCount = 10;
    public const int KindUpdatedCount = 13;

    // SET LOCAL lasts until the chunk's transaction ends: the one sort of a chunk stays in memory instead of spilling to disk.
    public static string CreateStage(BulkTable table)
        => $"SET LOCAL work_mem = '64MB'; CREATE TEMP TABLE {Stage} ON COMMIT DROP AS SELECT NULL::bigint AS " +
            $"iw_ord, {ColumnList(table)} FROM {table.QualifiedName} WITH NO DATA";

    public static string CopyBinary(BulkTable table) => $"COPY {Stage} (iw_ord, {ColumnList(table)}) FROM STDIN (FORMAT BINARY)";

    public static string CopyCsv(BulkTable table) => $"COPY {Stage} (iw_ord, {ColumnList(table)}) FROM STDIN (FORMAT CSV)";

    public const string CurrentTransaction = "SELECT pg_catalog.pg_current_xact_id()::text::bigint % 4294967296";

    // Insert: the first occurrence of a key is written. $1 (bigint[]): the transaction ids of this import's earlier
    // chunks; a skipped key whose stored row one of them wrote is a duplicate in the input, otherwise it existed.
    public static string Insert(BulkTable table, bool returnRows, bool hasEarlierChunks)
    {
        var sb = new StringBuilder();
        AppendRanked(sb, table, lastWins: false);
        sb.Append(", ins AS (").Append(Write(table)).Append(" DO NOTHING RETURNING ").Append(KeyReturning(table));
        AppendReturning(sb, table, returnRows);
        sb.Append(')');

        var skipped = hasEarlierChunks
            ? $"CASE WHEN {TargetHas(table, "r", "t.xmin::text::bigint = ANY($1)")} THEN {KindDuplicate} ELSE {KindExisting} END"
            : KindExisting.ToString(System.Globalization.CultureInfo.InvariantCulture);
        sb.Append(", f AS MATERIALIZED (SELECT r.*, ").Append(skipped)
            .Append(" AS iw_kind FROM r WHERE r.iw_rn = 1 AND NOT EXISTS (SELECT 1 FROM ins i WHERE ")
            .Append(KeyMatch(table, "i", "r")).Append("))");

        sb.Append(' ').Append(returnRows
            ? $"SELECT {KindInsertedRow} AS iw_kind, NULL::bigint AS iw_ord, {string.Join(", ", table.ReturningColumns)} FROM ins"
            : $"SELECT {KindInsertedCount} AS iw_kind, count(*) AS iw_ord FROM ins");
        sb.Append(" UNION ALL SELECT f.iw_kind, f.iw_ord").Append(Nulls(table, returnRows)).Append(" FROM f");

        // A later occurrence shares its key's fate: the key existed (someone else wrote it) or this import wrote it.
        sb.Append(" UNION ALL SELECT COALESCE(f.iw_kind, ").Append(KindDuplicate).Append("), d.iw_ord").Append(Nulls(table, returnRows))
            .Append(" FROM r d LEFT JOIN f ON ").Append(KeyMatch(table, "f", "d"))
            .Append(" WHERE d.iw_rn > 1");
        return sb.ToString();
    }

    // Upsert: the last occurrence of a key in the chunk is applied (PostgreSQL refuses to update one row twice in a statement).
    public static string Upsert(BulkTable table, bool returnRows)
    {
        var sb = new StringBuilder();
        AppendRanked(sb, table, lastWins: true);
        var set = string.Join(", ", table.UpdateColumns.Select(c => $"{c} = EXCLUDED.{c}"));
        var current = string.Join(", ", table.UpdateColumns.Select(c => $"{SqlGenerator.TargetAlias}.{c}"));
        var incoming = string.Join(", ", table.UpdateColumns.Select(c => $"EXCLUDED.{c}"));
        sb.Append(", up AS (").Append(Write(table))
            .Append(" DO UPDATE SET ").Append(set)
            .Append(" WHERE ROW(").Append(current).Append(") IS DISTINCT FROM ROW(").Append(incoming).Append(')')
            .Append(" RETURNING ").Append(KeyReturning(table))
            .Append(", (").Append(SqlGenerator.TargetAlias).Append(".xmax = 0) AS iw_inserted");
        AppendReturning(sb, table, returnRows);
        sb.Append(')');

        sb.Append(' ').Append(returnRows
            ? $"SELECT CASE WHEN iw_inserted THEN {KindInsertedRow} ELSE {KindUpdatedRow} END AS iw_kind, " +
                $"NULL::bigint AS iw_ord, {string.Join(", ", table.ReturningColumns)} FROM up"
            : $"SELECT {KindInsertedCount} AS iw_kind, count(*) FILTER (WHERE iw_inserted) AS iw_ord FROM up UNION " +
                $"ALL SELECT {KindUpdatedCount}, count(*) FILTER (WHERE NOT iw_inserted) FROM up");
        sb.Append(" UNION ALL SELECT ").Append(KindUnchanged).Append(", r.iw_ord").Append(Nulls(table, returnRows))
            .Append(" FROM r WHERE r.iw_rn = 1 AND NOT EXISTS (SELECT 1 FROM up u WHERE ").Append(KeyMatch(table, "u", "r")).Append(')');
        sb.Append(" UNION ALL SELECT ").Append(KindDuplicate).Append(", r.iw_ord").Append(Nulls(table, returnRows))
            .Append(" FROM r WHERE r.iw_rn > 1");
        return sb.ToString();
    }

    // Preview: nothing is written. The keys of earlier chunks are kept in a temporary table for the preview's transaction.
    public static string CreateSeen(BulkTable table)
    {
        var sb = new StringBuilder();
        AppendKeyed(sb, table);
        sb.Append(" SELECT ").Append(string.Join(", ", table.Keys.Select((_, i) => "iw_k" + (i + 1)))).Append(" FROM x");
        return $"CREATE TEMP TABLE {Seen} ON COMMIT DROP AS {sb} WITH NO DATA";
    }

    public static string Preview(BulkTable table)
    {
        var keys = string.Join(", ", table.Keys.Select((_, i) => "iw_k" + (i + 1)));
        var sb = new StringBuilder();
        AppendRanked(sb, table, lastWins: false);
        sb.Append(", e AS MATERIALIZED (SELECT r.*, ")
            .Append(HasPartition(table) ? "r.iw_p = 0 AND " : string.Empty).Append(TargetHas(table, "r", null)).Append(" AS iw_exists, ")
            .Append("EXISTS (SELECT 1 FROM ").Append(Seen).Append(" p WHERE ").Append(KeyMatch(table, "p", "r"))
            .Append(") AS iw_seen FROM r WHERE r.iw_rn = 1)");
        sb.Append(", seen AS (INSERT INTO ").Append(Seen).Append(" SELECT ").Append(keys).Append(" FROM e WHERE NOT e.iw_exists AND NOT e.iw_seen)");
        sb.Append(", f AS MATERIALIZED (SELECT e.*, CASE WHEN e.iw_exists THEN ").Append(KindExisting)
            .Append(" WHEN e.iw_seen THEN ").Append(KindDuplicate)
            .Append(" ELSE ").Append(KindInsertedRow).Append(" END AS iw_kind FROM e)");
        sb.Append(" SELECT ").Append(KindInsertedCount).Append(" AS iw_kind, count(*) AS iw_ord FROM f WHERE f.iw_kind = ").Append(KindInsertedRow);
        sb.Append(" UNION ALL SELECT f.iw_kind, f.iw_ord FROM f WHERE f.iw_kind <> ").Append(KindInsertedRow);
        sb.Append(" UNION ALL SELECT CASE WHEN f.iw_kind = ").Append(KindExisting).Append(" THEN ").Append(KindExisting)
            .Append(" ELSE ").Append(KindDuplicate)
            .Append(" END, d.iw_ord FROM r d JOIN f ON ").Append(KeyMatch(table, "f", "d"))
            .Append(" WHERE d.iw_rn > 1");
        return sb.ToString();
    }

    private static string ColumnList(BulkTable table) => string.Join(", ", table.Columns.Select(c => c.Quoted));

    // x: the staged rows with their key values (iw_k1…) and, where rows can never conflict (the partial index's predicate
    // is false, or a key is NULL and NULLs are distinct), a partition value iw_p that makes each such row its own group.
    private static void AppendKeyed(StringBuilder sb, BulkTable table)
    {
        sb.Append("WITH x AS NOT MATERIALIZED (SELECT s.*");
        for (var i = 0; i < table.Keys.Count; i++)
        {
            sb.Append(", (").Append(table.Keys[i]).Append(") AS iw_k").Append(i + 1);
        }

        if (HasPartition(table))
        {
            var conditions = new List<string>();
            if (table.Predicate is not null)
            {
                conditions.Add("(" + table.Predicate + ")");
            }

            if (!table.NullsNotDistinct)
            {
                conditions.AddRange(table.Keys.Select(k => $"({k}) IS NOT NULL"));
            }

            sb.Append(", CASE WHEN ").Append(string.Join(" AND ", conditions)).Append(" THEN 0 ELSE s.iw_ord END AS iw_p");
        }

        sb.Append(" FROM ").Append(Stage).Append(" s)");
    }

    private static bool HasPartition(BulkTable table) => table.Predicate is not null || !table.NullsNotDistinct;

    // r: every staged row ranked within its key (iw_rn = 1: the row that is written). The window's sort is the chunk's only
    // sort; r keeps its order (key order), and the INSERT reads r in it: concurrent imports lock keys in the same order.
    private static void AppendRanked(StringBuilder sb, BulkTable table, bool lastWins)
    {
        AppendKeyed(sb, table);
        sb.Append(", r AS MATERIALIZED (SELECT x.*, row_number() OVER (PARTITION BY ").Append(GroupColumns(table))
            .Append(" ORDER BY iw_ord").Append(lastWins ? " DESC" : string.Empty).Append(") AS iw_rn FROM x)");
    }

    private static string GroupColumns(BulkTable table)
    {
        var keys = table.Keys.Select((_, i) => "iw_k" + (i + 1));
        return string.Join(", ", HasPartition(table) ? keys.Append("iw_p") : keys);
    }

    // INSERT … SELECT (the first-ranked rows, in r's key order) … ON CONFLICT <arbiter>, without the action.
    private static string Write(BulkTable table)
    {
        var columns = ColumnList(table);
        var overriding = table.OverridingSystemValue ? " OVERRIDING SYSTEM VALUE" : string.Empty;
        var select = string.Join(", ", table.Columns.Select(c => "r." + c.Quoted));
        return $"INSERT INTO {table.QualifiedName} AS {SqlGenerator.TargetAlias} ({columns}){overriding} SELECT " +
            $"{select} FROM r WHERE r.iw_rn = 1 ON CONFLICT {table.ArbiterClause}";
    }

    private static string KeyReturning(BulkTable table)
        => string.Join(", ", table.Keys.Select((k, i) => $"({k}) AS iw_k{i + 1}"));

    private static void AppendReturning(StringBuilder sb, BulkTable table, bool returnRows)
    {
        if (returnRows)
        {
            foreach (var column in table.ReturningColumns)
            {
                sb.Append(", ").Append(SqlGenerator.TargetAlias).Append('.').Append(column);
            }
        }
    }

    private static string Nulls(BulkTable table, bool returnRows)
        => returnRows ? string.Concat(Enumerable.Repeat(", NULL", table.ReturningColumns.Count)) : string.Empty;

    private static string KeyMatch(BulkTable table, string left, string right)
        => string.Join(" AND ", table.Keys.Select((_, i) => table.NullsNotDistinct
            ? $"{left}.iw_k{i + 1} IS NOT DISTINCT FROM {right}.iw_k{i + 1}"
            : $"{left}.iw_k{i + 1} = {right}.iw_k{i + 1}"));

    // EXISTS over the table: the key matches the alias's iw_k columns (unqualified names in the key expressions resolve to
    // the table's columns, the innermost scope) and the row can arbitrate (partial index predicate).
    private static string TargetHas(BulkTable table, string alias, string? condition)
    {
        var conditions = table.Keys.Select((k, i) => table.NullsNotDistinct
            ? $"({k}) IS NOT DISTINCT FROM {alias}.iw_k{i + 1}"
            : $"({k}) = {alias}.iw_k{i + 1}").ToList();
        if (table.Predicate is not null)
        {
            conditions.Add("(" + table.Predicate + ")");
        }

        if (condition is not null)
        {
            conditions.Add(condition);
        }

        return $"EXISTS (SELECT 1 FROM {table.QualifiedName} t WHERE {string.Join(" AND ", conditions)})";
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Bulk;

// The statements of a bulk operation. Rows are staged (COPY) into a temporary table with an input ordinal, iw_ord; one
// statement per chunk then writes them and classifies the rows it skipped, in the same snapshot. Result rows are
// (iw_kind, iw_ord[, returning columns]): a Kind below 10 is one input row (iw_ord its position), a Kind of 10 or more the
// number of rows of kind − 10 (in iw_ord). Counts are computed on the server; single rows come back only up to the limits
// the report still keeps, the first in input order. Concurrent imports into one table take turns per chunk (Lock), so they
// cannot deadlock on each other whatever order their rows come in.
internal static class BulkSql
{
    public const string Stage = "iw_bulk_stage";
    public const string Seen = "iw_bulk_seen";
    public const string Probe = "iw_bulk_probe";

    // Per input row (iw_ord is the row's input position).
    public const int KindInsertedRow = 0;
    public const int KindExisting = 1;
    public const int KindDuplicate = 2;
    public const int KindUpdatedRow = 3;
    public const int KindUnchanged = 4;

    // Totals: the count of rows of kind (Kind − CountOffset), carried in iw_ord.
    public const int CountOffset = 10;
    public const int KindInsertedCount = CountOffset + KindInsertedRow;
    public const int KindUpdatedCount = CountOffset + KindUpdatedRow;

    // The first key of the two-key advisory lock a chunk takes before it writes (the second: the table's OID).
    public const int LockSpace = 0x49570B01;

    // SET LOCAL lasts until the chunk's transaction ends: the one sort of a chunk stays in memory instead of spilling to disk.
    public static string CreateStage(BulkTable table)
        => $"SET LOCAL work_mem = '64MB'; CREATE TEMP TABLE {Stage} ON COMMIT DROP AS SELECT NULL::bigint AS " +
            $"iw_ord, {ColumnList(table)} FROM {table.QualifiedName} WITH NO DATA";

    public static string CopyBinary(BulkTable table) => $"COPY {Stage} (iw_ord, {ColumnList(table)}) FROM STDIN (FORMAT BINARY)";

    public static string CopyCsv(BulkTable table) => $"COPY {Stage} (iw_ord, {ColumnList(table)}) FROM STDIN (FORMAT CSV)";

    public const string CurrentTransaction = "SELECT pg_catalog.pg_current_xact_id()::text::bigint % 4294967296";

    // $1 (text): the table's qualified name. Held until the chunk's transaction ends: one import's chunk writes at a time
    // per table, so two imports never wait on each other's uncommitted keys in opposite orders.
    public static readonly string Lock =
        $"SELECT pg_catalog.pg_advisory_xact_lock({LockSpace}, (pg_catalog.to_regclass($1)::oid::bigint % 2147483647)::int)";

    // The optimistic write, after a chunk that skipped nothing: a plain INSERT, without the cost of ON CONFLICT's
    // speculative insertion. Any unique violation (a key that exists, a duplicate in the chunk, a concurrent writer) fails
    // it, and the chunk is written again with Insert.
    public static string InsertPlain(BulkTable table)
    {
        var columns = ColumnList(table);
        var overriding = table.OverridingSystemValue ? " OVERRIDING SYSTEM VALUE" : string.Empty;
        return $"INSERT INTO {table.QualifiedName} AS {SqlGenerator.TargetAlias} ({columns}){overriding} SELECT {columns} FROM {Stage}";
    }

    // Probe-first (BulkTable.ProbeFirst), in three steps. CreateProbe runs while the chunk before is still writing (on the
    // other connection): it looks every staged key up in the table, one index probe each, and keeps the rows whose key is
    // stored, with the stored row's ctid and xmin. InsertProbed then writes the other rows with a plain INSERT: no ON
    // CONFLICT, so no speculative insertion, and no classification on the write's critical path. A key stored after the
    // lookup (by the chunk before, a concurrent writer) or repeated in the chunk makes it fail with a unique violation; a
    // stored row that changed or vanished since the lookup makes it write nothing; both send the chunk to the classifying
    // Insert. ProbeReport classifies the probed rows: $1 (bigint[]) this import's earlier
    // transactions (a row one of them wrote is a duplicate in the input, any other existed), $2 and $3 (int) how many
    // existing and duplicate rows to return one by one.
    // The lookup must use the arbiter's index: planned while the table is still empty (the first chunks), a sequential scan
    // per row would read every row the chunk before inserts meanwhile. Hence enable_seqscan off, for this statement only, and
    // jit off with it (the penalty that setting adds to the plan's cost would otherwise have it compiled, at a cost of its own).
    public static string CreateProbe(BulkTable table)
    {
        var sb = new StringBuilder($"SET LOCAL enable_seqscan = off; SET LOCAL jit = off; CREATE TEMP TABLE {Probe} ON COMMIT DROP AS ");
        AppendKeyed(sb, table);
        sb.Append(" SELECT x.iw_ord, p.iw_xmin, p.iw_ctid FROM x CROSS JOIN LATERAL (SELECT t.xmin::text::bigint AS iw_xmin, ")
            .Append("t.ctid AS iw_ctid FROM ").Append(table.QualifiedName).Append(" t WHERE ").Append(StoredKey(table, "x"))
            .Append(" LIMIT 1) p");
        if (HasPartition(table))
        {
            sb.Append(" WHERE x.iw_p = 0");
        }

        return sb.Append("; RESET enable_seqscan; RESET jit").ToString();
    }

    // The stored rows the probe found are checked by ctid (one TID scan) and xmin: a row written after the probe's snapshot
    // has the xmin of a transaction that had not committed then, which no probed row has.
    public static string InsertProbed(BulkTable table)
    {
        var columns = ColumnList(table);
        var overriding = table.OverridingSystemValue ? " OVERRIDING SYSTEM VALUE" : string.Empty;
        return $"INSERT INTO {table.QualifiedName} AS {SqlGenerator.TargetAlias} ({columns}){overriding} SELECT " +
            $"{string.Join(", ", table.Columns.Select(c => "s." + c.Quoted))} FROM {Stage} s WHERE NOT EXISTS (SELECT 1 FROM " +
            $"{Probe} p WHERE p.iw_ord = s.iw_ord) AND (SELECT count(*) FROM {table.QualifiedName} t WHERE t.ctid = ANY (ARRAY(" +
            $"SELECT p.iw_ctid FROM {Probe} p)) AND t.xmin::text::bigint IN (SELECT p.iw_xmin FROM {Probe} p)) = " +
            $"(SELECT count(DISTINCT p.iw_ctid) FROM {Probe} p)";
    }

    public static readonly string ProbeReport =
        $"WITH k AS (SELECT p.iw_ord, CASE WHEN p.iw_xmin = ANY($1) THEN {KindDuplicate} ELSE {KindExisting} END AS iw_kind " +
        $"FROM {Probe} p) SELECT {CountOffset} + k.iw_kind, count(*) FROM k GROUP BY k.iw_kind " +
        $"UNION ALL (SELECT k.iw_kind, k.iw_ord FROM k WHERE k.iw_kind = {KindExisting} ORDER BY k.iw_ord LIMIT $2) " +
        $"UNION ALL (SELECT k.iw_kind, k.iw_ord FROM k WHERE k.iw_kind = {KindDuplicate} ORDER BY k.iw_ord LIMIT $3)";

    // Insert: rows are written in input order, so the first occurrence of a key is the one written (a later one conflicts
    // with it). Parameters: $1 (bigint[]) the transaction ids of this import's earlier chunks: a skipped key whose stored row
    // one of them wrote is a duplicate in the input, otherwise it existed; $2, $3 (int) how many existing and duplicate rows
    // to return one by one; $4 (bigint) the rows staged. The classification is gated on the counts (one-time filters), so a
    // chunk that skipped nothing pays for none of it; a skipped row costs one index probe (only when earlier chunks exist).
    public static string Insert(BulkTable table, bool returnRows, bool hasEarlierChunks)
    {
        var sb = new StringBuilder();
        AppendKeyed(sb, table);
        var partition = HasPartition(table) ? "x.iw_p = 0 AND " : string.Empty;
        var overriding = table.OverridingSystemValue ? " OVERRIDING SYSTEM VALUE" : string.Empty;
        sb.Append(", ins AS (INSERT INTO ").Append(table.QualifiedName).Append(" AS ").Append(SqlGenerator.TargetAlias)
            .Append(" (").Append(ColumnList(table)).Append(')').Append(overriding)
            .Append(" SELECT ").Append(string.Join(", ", table.Columns.Select(c => "x." + c.Quoted)))
            .Append(" FROM x ORDER BY x.iw_ord ON CONFLICT ").Append(table.ArbiterClause)
            .Append(" DO NOTHING RETURNING ").Append(KeyReturning(table));
        AppendReturning(sb, table, returnRows);
        sb.Append(')');

        // sk: the skipped rows whose key this statement did not write (it existed, or an earlier chunk wrote it).
        sb.Append(", sk AS MATERIALIZED (SELECT x.iw_ord, ").Append(KeyColumns(table, "x"))
            .Append(" FROM x WHERE (SELECT count(*) FROM ins) <> $4 AND ").Append(partition)
            .Append("NOT EXISTS (SELECT 1 FROM ins i WHERE ").Append(KeyMatch(table, "i", "x")).Append("))");
        var kind = hasEarlierChunks
            ? $"CASE WHEN ({StoredXmin(table, "sk")}) = ANY($1) THEN {KindDuplicate} ELSE {KindExisting} END"
            : KindExisting.ToString(System.Globalization.CultureInfo.InvariantCulture);
        sb.Append(", k AS (SELECT sk.iw_ord, ").Append(kind).Append(" AS iw_kind FROM sk)");

        // d: later occurrences of a key this statement wrote (only when single duplicates are still reported).
        sb.Append(", d AS (SELECT r.iw_ord FROM (SELECT x.iw_ord, row_number() OVER (PARTITION BY ").Append(GroupColumns(table))
            .Append(" ORDER BY x.iw_ord) AS iw_rn FROM x WHERE $3 > 0 AND (SELECT count(*) FROM ins) + (SELECT count(*) FROM sk) <> $4 AND ")
            .Append(partition).Append("EXISTS (SELECT 1 FROM ins i WHERE ").Append(KeyMatch(table, "i", "x")).Append(")) r WHERE r.iw_rn > 1)");

        var nulls = Nulls(table, returnRows);
        sb.Append(' ').Append(returnRows
            ? $"SELECT {KindInsertedRow} AS iw_kind, NULL::bigint AS iw_ord, {string.Join(", ", table.ReturningColumns)} FROM ins"
            : $"SELECT {KindInsertedCount} AS iw_kind, count(*) AS iw_ord FROM ins");
        sb.Append(" UNION ALL SELECT ").Append(CountOffset).Append(" + k.iw_kind, count(*)").Append(nulls).Append(" FROM k GROUP BY k.iw_kind");
        sb.Append(" UNION ALL (SELECT ").Append(KindExisting).Append(", k.iw_ord").Append(nulls).Append(" FROM k WHERE k.iw_kind = ")
            .Append(KindExisting).Append(" ORDER BY k.iw_ord LIMIT $2)");
        sb.Append(" UNION ALL (SELECT ").Append(KindDuplicate).Append(", q.iw_ord").Append(nulls)
            .Append(" FROM (SELECT k.iw_ord FROM k WHERE k.iw_kind = ").Append(KindDuplicate)
            .Append(" UNION ALL SELECT d.iw_ord FROM d) q ORDER BY q.iw_ord LIMIT $3)");
        return sb.ToString();
    }

    // Upsert: the last occurrence of a key in the chunk is applied (PostgreSQL refuses to update one row twice in a statement),
    // in key order (the ranking's sort). $1 (int): how many duplicate rows to return one by one.
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
        var nulls = Nulls(table, returnRows);
        sb.Append(" UNION ALL SELECT ").Append(CountOffset + KindUnchanged).Append(", count(*)").Append(nulls)
            .Append(" FROM r WHERE r.iw_rn = 1 AND NOT EXISTS (SELECT 1 FROM up u WHERE ").Append(KeyMatch(table, "u", "r")).Append(')');
        sb.Append(" UNION ALL SELECT ").Append(CountOffset + KindDuplicate).Append(", count(*)").Append(nulls).Append(" FROM r WHERE r.iw_rn > 1");
        sb.Append(" UNION ALL (SELECT ").Append(KindDuplicate).Append(", r.iw_ord").Append(nulls)
            .Append(" FROM r WHERE r.iw_rn > 1 ORDER BY r.iw_ord LIMIT $1)");
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
            .Append(HasPartition(table) ? "r.iw_p = 0 AND " : string.Empty).Append(TargetHas(table, "r")).Append(" AS iw_exists, ")
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

    private static string KeyColumns(BulkTable table, string alias)
        => string.Join(", ", table.Keys.Select((_, i) => $"{alias}.iw_k{i + 1}"));

    // The xmin of the stored row with the alias's key: a scalar subquery with LIMIT, so it stays one index probe per row
    // (an EXISTS would be planned as a hashed scan of the whole table).
    private static string StoredXmin(BulkTable table, string alias)
        => $"SELECT t.xmin::text::bigint FROM {table.QualifiedName} t WHERE {StoredKey(table, alias)} LIMIT 1";

    // The stored row (alias t, unqualified names resolve to it) has the alias's key and can arbitrate (partial index predicate).
    private static string StoredKey(BulkTable table, string alias)
    {
        var conditions = table.Keys.Select((k, i) => table.NullsNotDistinct
            ? $"({k}) IS NOT DISTINCT FROM {alias}.iw_k{i + 1}"
            : $"({k}) = {alias}.iw_k{i + 1}").ToList();
        if (table.Predicate is not null)
        {
            conditions.Add("(" + table.Predicate + ")");
        }

        return string.Join(" AND ", conditions);
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
    private static string TargetHas(BulkTable table, string alias)
        => $"EXISTS (SELECT 1 FROM {table.QualifiedName} t WHERE {StoredKey(table, alias)})";
}

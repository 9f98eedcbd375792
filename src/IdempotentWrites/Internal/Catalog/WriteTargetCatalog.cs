// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Catalog;

// The columns and unique keys of a table that a text bulk write targets by name (TextTarget checks them). The iw tool links
// this file. $1 is the quoted, qualified table name; to_regclass resolves it on the search_path like the statements will.
internal static class WriteTargetCatalog
{
    // attidentity || attgenerated: "" plain, "a" GENERATED ALWAYS AS IDENTITY, "d" BY DEFAULT AS IDENTITY, "s" generated (stored).
    private const string ColumnsSql =
        "SELECT a.attname, a.attidentity::text || a.attgenerated::text FROM pg_catalog.pg_attribute a "
        + "WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

    // Every valid unique index (constraints included): its key columns, whether it has a predicate or expressions (it cannot
    // be named by a column list), whether it is checked immediately (ON CONFLICT cannot use a deferrable one).
    private const string UniqueKeysSql =
        "SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) k JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k), "
        + "i.indpred IS NOT NULL OR i.indexprs IS NOT NULL, i.indimmediate "
        + "FROM pg_catalog.pg_index i WHERE i.indrelid = pg_catalog.to_regclass($1) AND i.indisunique AND i.indisvalid ORDER BY i.indexrelid";

    // Whether a bulk chunk may look its keys up before it writes (BulkTable.ProbeFirst): no enabled BEFORE INSERT row trigger
    // (it could change a key after the lookup), no row security (the lookup would miss rows a policy hides), SELECT on the
    // table (the lookup reads xmin), and not partitioned (the check of the rows found goes by ctid, which each partition
    // numbers on its own). No row when the table does not exist.
    private const string ProbeFirstSql =
        "SELECT c.relkind <> 'p' AND NOT c.relrowsecurity AND pg_catalog.has_table_privilege(c.oid, 'SELECT') AND NOT EXISTS (SELECT 1 "
        + "FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgenabled <> 'D' "
        + "AND (t.tgtype & 7) = 7) FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)";

    // Column name to its kind ("", "a", "d" or "s"), in table order; empty when the table does not exist.
    public static async Task<Dictionary<string, string>> ReadColumnsAsync(
        NpgsqlDataSource dataSource,
        string qualifiedTable,
        CancellationToken cancellationToken)
    {
        var columns = await ReadAsync(
            dataSource,
            ColumnsSql,
            qualifiedTable,
            r => (Name: r.GetString(0), Kind: r.GetString(1)),
            cancellationToken).ConfigureAwait(false);
        return columns.ToDictionary(c => c.Name, c => c.Kind, StringComparer.Ordinal);
    }

    public static Task<List<UniqueKey>> ReadUniqueKeysAsync(NpgsqlDataSource dataSource, string qualifiedTable, CancellationToken cancellationToken)
        => ReadAsync(
            dataSource,
            UniqueKeysSql,
            qualifiedTable,
            r => new UniqueKey(r.GetFieldValue<string[]>(0), r.GetBoolean(1), r.GetBoolean(2)),
            cancellationToken);

    public static async Task<bool> ReadProbeFirstAsync(NpgsqlDataSource dataSource, string qualifiedTable, CancellationToken cancellationToken)
        => (await ReadAsync(dataSource, ProbeFirstSql, qualifiedTable, r => r.GetBoolean(0), cancellationToken).ConfigureAwait(false))
            is [true];

    private static async Task<List<T>> ReadAsync<T>(
        NpgsqlDataSource dataSource,
        string sql,
        string qualifiedTable,
        Func<NpgsqlDataReader, T> read,
        CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        var command = dataSource.CreateCommand(sql);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = qualifiedTable, NpgsqlDbType = NpgsqlDbType.Text });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add(read(reader));
                }
            }
        }

        return rows;
    }

    // Partial: a predicate or expressions. Immediate: not DEFERRABLE.
    internal sealed record UniqueKey(string[] Columns, bool Partial, bool Immediate);
}

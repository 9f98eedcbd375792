// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Mapping;
using Npgsql;

namespace IdempotentWrites.Internal.Catalog;

// Catalog reads shared by mapping resolution and error translation. Every name is a parameter.
internal static class CatalogQueries
{
    public static async Task<IndexDefinition?> ReadIndexAsync(
        NpgsqlConnection connection,
        string? schema,
        string indexName,
        CancellationToken cancellationToken)
    {
        var nullsNotDistinct = connection.PostgreSqlVersion.Major >= 15 ? "i.indnullsnotdistinct" : "false";
        var sql = $"""
            SELECT ns.nspname, tc.relname, i.indisprimary, {nullsNotDistinct}, pg_catalog.pg_get_expr(i.indpred, i.indrelid),
                   a.attname, pg_catalog.pg_get_indexdef(i.indexrelid, k.n, true), NOT i.indimmediate,
                   CASE WHEN k.n = 1 AND i.indexprs IS NOT NULL THEN ({ConstraintColumns.ExpressionColumnsSql}) END
            FROM pg_catalog.pg_class ic
            JOIN pg_catalog.pg_namespace ns ON ns.oid = ic.relnamespace
            JOIN pg_catalog.pg_index i ON i.indexrelid = ic.oid
            JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
            CROSS JOIN LATERAL generate_series(1, i.indnkeyatts) AS k(n)
            LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n - 1] AND i.indkey[k.n - 1] <> 0
            WHERE ic.oid = (
                SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relname = $2 AND c.relkind IN ('i', 'I')
                  AND (CASE WHEN $1::text IS NULL THEN n.nspname = ANY (pg_catalog.current_schemas(true)) ELSE n.nspname = $1 END)
                ORDER BY array_position(pg_catalog.current_schemas(true), n.nspname) NULLS LAST LIMIT 1)
            ORDER BY k.n
            """;
        using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)schema ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = indexName, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        IndexDefinition? result = null;
        var keys = new List<IndexKey>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result ??= new IndexDefinition(
                indexName,
                reader.GetString(0),
                reader.GetString(1),
                reader.GetBoolean(2),
                reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetBoolean(7),
                keys)
            {
                ExpressionColumns = reader.IsDBNull(8) ? [] : [.. reader.GetFieldValue<string[]>(8).Distinct(StringComparer.Ordinal)],
            };
            keys.Add(new IndexKey(reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6)));
        }

        return result;
    }

    // The first of the given columns that the catalog declares GENERATED ALWAYS (identity or generated column), in the
    // given order; null when none is (or the table is gone). For a 428C9, whose fields name neither table nor column.
    public static async Task<string?> ReadFirstGeneratedAlwaysColumnAsync(
        NpgsqlConnection connection, string qualifiedTable, IReadOnlyList<string> columns, CancellationToken cancellationToken)
    {
        const string Sql = """
            SELECT a.attname::text
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname = ANY ($2) AND (a.attidentity = 'a' OR a.attgenerated <> '')
            ORDER BY pg_catalog.array_position($2, a.attname::text)
            LIMIT 1
            """;
        using var command = new NpgsqlCommand(Sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = qualifiedTable, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(
            new NpgsqlParameter { Value = columns.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Catalog;

// The columns of a constraint or unique index, by name. Linked into IdempotentWrites.AspNetCore, whose problem details name
// the fields of a violated constraint when the error carries only its name (a raw PostgresException from the app's own
// data access, or one wrapped by EF Core).
internal static class ConstraintColumns
{
    // The columns an index's key expressions read, in order of first appearance, as text[] (NULL for an index without
    // expressions); a subquery over pg_index aliased i. pg_depend cannot tell them apart from the columns of the
    // partial-index predicate or of INCLUDE, so they are read from pg_index.indexprs: its node tree writes every column
    // reference as "{VAR :varno 1 :varattno N ...", unchanged from PostgreSQL 13 to 18 (string constants are written as
    // bytes and names as backslash-escaped tokens, so only real Var nodes match).
    public const string ExpressionColumnsSql = """
        SELECT array_agg(ea.attname::text ORDER BY m.ord)
        FROM regexp_matches(i.indexprs::text, '\{VAR :varno \d+ :varattno (\d+) ', 'g') WITH ORDINALITY AS m(v, ord)
        JOIN pg_catalog.pg_attribute ea ON ea.attrelid = i.indrelid AND ea.attnum = m.v[1]::int2
        """;

    // $1 schema, $2 table, $3 constraint or index name. The constraint's columns (src 0); else the named index's plain key
    // columns (src 1), then the columns its key expressions read (src 2); never the columns only in a partial index's
    // predicate or in INCLUDE.
    private const string Sql = $"""
        WITH ix AS (
            SELECT i.indrelid, i.indkey, i.indnkeyatts, ({ExpressionColumnsSql}) AS exprcols
            FROM pg_catalog.pg_class ic
            JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
            JOIN pg_catalog.pg_index i ON i.indexrelid = ic.oid
            WHERE ic.relname = $3 AND n.nspname = $1
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c2 JOIN pg_catalog.pg_class t2 ON t2.oid = c2.conrelid
                              WHERE c2.conname = $3 AND t2.relname = $2 AND t2.relnamespace = n.oid))
        SELECT 0 AS src, k.ord, a.attname::text
        FROM pg_catalog.pg_constraint c
        JOIN pg_catalog.pg_class t ON t.oid = c.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.conname = $3 AND t.relname = $2 AND n.nspname = $1
        UNION ALL
        SELECT 1, k.n, a.attname::text
        FROM ix
        CROSS JOIN LATERAL generate_series(1, ix.indnkeyatts) AS k(n)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = ix.indkey[k.n - 1] AND ix.indkey[k.n - 1] <> 0
        UNION ALL
        SELECT 2, e.ord, e.name
        FROM ix
        CROSS JOIN LATERAL unnest(ix.exprcols) WITH ORDINALITY AS e(name, ord)
        ORDER BY 1, 2
        """;

    // Each column once, in its first place (an expression may read a key column again, or one column twice); empty when
    // nothing of that name exists.
    public static Task<string[]> ReadAsync(
        NpgsqlDataSource dataSource,
        string schema,
        string table,
        string constraint,
        CancellationToken cancellationToken)
        => ReadAsync(dataSource.CreateCommand(Sql), schema, table, constraint, cancellationToken);

    // On a connection the caller holds (no transaction in progress, or one it may read in).
    public static Task<string[]> ReadAsync(
        NpgsqlConnection connection,
        string schema,
        string table,
        string constraint,
        CancellationToken cancellationToken)
        => ReadAsync(new NpgsqlCommand(Sql, connection), schema, table, constraint, cancellationToken);

    private static async Task<string[]> ReadAsync(
        NpgsqlCommand command,
        string schema,
        string table,
        string constraint,
        CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = constraint, NpgsqlDbType = NpgsqlDbType.Text });
            var columns = new List<string>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    columns.Add(reader.GetString(2));
                }
            }

            return [.. columns.Distinct(StringComparer.Ordinal)];
        }
    }
}

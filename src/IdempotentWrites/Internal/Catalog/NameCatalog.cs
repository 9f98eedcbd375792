// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Catalog;

// Checks of the schema and table names a user gave, before any work: a typo is an error naming what exists, never an empty
// success. The bulk text import uses it; the iw tool links this file (its commands check --schema and --table with it).
// schemaHint says how the caller names another schema (for iw: "use --schema or schema.table for another schema").
internal static class NameCatalog
{
    private const int MaxListed = 20;

    // The schemas this role may use (USAGE), without the system ones; those on the search_path first, so a long list
    // cut at MaxListed still shows them.
    private const string VisibleSchemasSql =
        "SELECT n.nspname FROM pg_catalog.pg_namespace n "
        + "WHERE pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' "
        + "ORDER BY n.nspname = ANY (pg_catalog.current_schemas(false)) DESC, 1";

    // Tables, partitioned tables, views and foreign tables of a schema (or of the search_path when $1 is NULL).
    private const string TablesSql =
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        + "WHERE c.relkind IN ('r', 'p', 'v', 'f') AND NOT c.relispartition "
        + "AND (CASE WHEN $1::text IS NULL THEN n.nspname = ANY (pg_catalog.current_schemas(false)) ELSE n.nspname = $1 END) "
        + "ORDER BY 1";

    public static async Task EnsureSchemasAsync(NpgsqlDataSource dataSource, IReadOnlyList<string> schemas, CancellationToken cancellationToken)
    {
        if (schemas.Count == 0)
        {
            return;
        }

        var visible = await ListAsync(dataSource, VisibleSchemasSql, null, cancellationToken).ConfigureAwait(false);
        var missing = schemas.Where(s => !visible.Contains(s, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"schema{(missing.Count == 1 ? string.Empty : "s")} {string.Join(", ", missing)} " +
                $"{(missing.Count == 1 ? "does" : "do")} not exist or this role may not use " +
                $"{(missing.Count == 1 ? "it" : "them")} "
                + $"(names are case-sensitive). Schemas this role can see: {Listing(visible)}.");
        }
    }

    public static async Task EnsureTableAsync(
        NpgsqlDataSource dataSource,
        string? schema,
        string table,
        string schemaHint,
        CancellationToken cancellationToken)
    {
        if (schema is not null)
        {
            await EnsureSchemasAsync(dataSource, [schema], cancellationToken).ConfigureAwait(false);
        }

        var tables = await ListAsync(dataSource, TablesSql, schema, cancellationToken).ConfigureAwait(false);
        if (!tables.Contains(table, StringComparer.Ordinal))
        {
            throw new ArgumentException(MissingTable(schema, table, schemaHint, tables));
        }
    }

    public static async Task<string> DescribeMissingTableAsync(
        NpgsqlDataSource dataSource,
        string? schema,
        string table,
        string schemaHint,
        CancellationToken cancellationToken)
        => MissingTable(schema, table, schemaHint, await ListAsync(dataSource, TablesSql, schema, cancellationToken).ConfigureAwait(false));

    private static string MissingTable(string? schema, string table, string schemaHint, List<string> tables)
    {
        var where = schema is null ? "on the search_path" : $"in schema {schema}";
        return $"table {table} does not exist {where} (names are case-sensitive; {schemaHint}). "
            + (tables.Count == 0 ? $"There are no tables {where}." : $"Tables {where}: {Listing(tables)}.");
    }

    private static string Listing(List<string> names)
        => names.Count == 0
            ? "none"
            : string.Join(", ", names.Take(MaxListed)) + (names.Count > MaxListed ? $", … ({names.Count} in all)" : string.Empty);

    private static async Task<List<string>> ListAsync(NpgsqlDataSource dataSource, string sql, string? parameter, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        var command = dataSource.CreateCommand(sql);
        await using (command.ConfigureAwait(false))
        {
            if (sql.Contains("$1", StringComparison.Ordinal))
            {
                command.Parameters.Add(
                    new NpgsqlParameter { Value = (object?)parameter ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            }

            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    names.Add(reader.GetString(0));
                }
            }
        }

        return names;
    }
}

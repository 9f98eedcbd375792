// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Catalog;

// What the connected role may do on a mapped table, and what can make a conflicting row invisible to the re-select.
// Privileges are read per column (has_column_privilege is true for table-level and column-level grants alike), so
// the check asks for exactly what each call's SQL needs and nothing more. Citus: whether the citus extension's catalog
// is there (then CitusCatalog reads the table's distribution column).
internal sealed record TableFacts(
    string Role,
    bool CanReadSystemColumns,
    IReadOnlyList<string> MissingInsert,
    IReadOnlyList<string> MissingSelect,
    IReadOnlyList<string> MissingUpdate,
    bool RowSecurity,
    IReadOnlyList<string> BeforeInsertTriggers,
    bool Citus = false,
    bool Partitioned = false)
{
    private const string FactsSql = """
        SELECT current_user::text,
               pg_catalog.has_table_privilege(c.oid, 'SELECT'),
               array(SELECT x FROM unnest($2::text[]) AS x WHERE NOT pg_catalog.has_column_privilege(c.oid, x, 'INSERT')),
               array(SELECT x FROM unnest($3::text[]) AS x WHERE NOT pg_catalog.has_column_privilege(c.oid, x, 'SELECT')),
               array(SELECT x FROM unnest($4::text[]) AS x WHERE NOT pg_catalog.has_column_privilege(c.oid, x, 'UPDATE')),
               c.relrowsecurity,
               array(SELECT t.tgname::text FROM pg_catalog.pg_trigger t
                     WHERE t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgenabled <> 'D'
                       AND (t.tgtype & 1) <> 0 AND (t.tgtype & 2) <> 0 AND (t.tgtype & 4) <> 0
                     ORDER BY t.tgname),
               pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL,
               c.relkind = 'p'
        FROM pg_catalog.pg_class c WHERE c.oid = $1
        """;

    public static async Task<TableFacts> ReadAsync(
        NpgsqlConnection connection,
        uint tableOid,
        IEnumerable<string> insert,
        IEnumerable<string> select,
        IEnumerable<string> update,
        CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(FactsSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tableOid, NpgsqlDbType = NpgsqlDbType.Oid });
        command.Parameters.Add(new NpgsqlParameter { Value = insert.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = select.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = update.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new TableFacts(
                reader.GetString(0),
                reader.GetBoolean(1),
                reader.GetFieldValue<string[]>(2),
                reader.GetFieldValue<string[]>(3),
                reader.GetFieldValue<string[]>(4),
                reader.GetBoolean(5),
                reader.GetFieldValue<string[]>(6),
                reader.GetBoolean(7),
                reader.GetBoolean(8));
        }
    }

    public static string Grant(string privilege, IReadOnlyList<string> columns, string table, string role)
        => $"GRANT {privilege} ({string.Join(", ", columns.Select(Sql.Quote))}) ON {table} TO {Sql.Quote(role)}";

    // Why an insert can conflict while the re-select by the same key finds nothing, most likely first.
    public string LikelyCauses()
    {
        var causes = new List<string>();
        if (BeforeInsertTriggers.Count > 0)
        {
            causes.Add(
                $"a BEFORE INSERT trigger ({string.Join(", ", BeforeInsertTriggers)}) changes the key before it is " +
                "stored, so the stored key differs from the one sent");
        }

        if (RowSecurity)
        {
            causes.Add($"row-level security is enabled and a policy hides the conflicting row from role \"{Role}\"");
        }

        causes.Add("the conflicting row is deleted by another transaction every time (rarely: the re-select runs in the same round trip)");
        return string.Join("; or ", causes);
    }
}

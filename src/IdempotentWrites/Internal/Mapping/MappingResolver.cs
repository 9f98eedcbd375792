// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.Json;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.Internal.Mapping;

// Checks a table mapping against the catalog once and turns it into a WritePlan. PostgreSQL itself decides which
// unique index is the arbiter: the generated INSERT is EXPLAINed (planned, never executed), so the SDK's check can
// never disagree with the server's own inference rules.
internal static class MappingResolver
{
    private sealed record CatalogColumn(string Name, string Type, bool NotNull, string Identity, string Generated, uint TypeOid);

    public static async Task<WritePlan> ResolveAsync(
        NpgsqlConnection connection,
        TableMapping mapping,
        JsonSerializerOptions json,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var (tableOid, schema, table) = await ReadTableAsync(connection, mapping, cancellationToken).ConfigureAwait(false);
        var columns = await ReadColumnsAsync(connection, tableOid, cancellationToken).ConfigureAwait(false);
        CheckColumns(mapping, columns);
        var mapped = mapping.Columns.Select(c => columns[c.ColumnName]).ToList();
        var types = await TypeCatalog.ReadAsync(
            connection,
            mapped.GroupBy(c => c.TypeOid).ToDictionary(g => g.Key, g => g.First().Type),
            cancellationToken).ConfigureAwait(false);

        // Every pairing of property and column type is checked here, before anything is written.
        var codecs = new ColumnCodecs(
            [.. mapping.Columns.Select((c, i) => ColumnCodec.Create(c, types[mapped[i].TypeOid], json, mapping.DisplayName))]);

        IReadOnlyList<KeyElement> keys;
        string? predicate = mapping.Conflict.Predicate;
        if (mapping.Conflict.Constraint is { } constraint)
        {
            var index = await ReadConstraintIndexAsync(connection, mapping, tableOid, schema, constraint, cancellationToken).ConfigureAwait(false);
            keys = [.. index.Keys.Select(k => KeyFor(mapping, constraint, k))];
        }
        else
        {
            keys = [.. mapping.Conflict.Columns.Select(KeyElement.ForColumn), .. mapping.Conflict.Expressions.Select(KeyElement.ForExpression)];
        }

        // First pass without the NULLS NOT DISTINCT knowledge: EXPLAIN tells which indexes arbitrate.
        var draft = SqlGenerator.Generate(mapping, keys, predicate, codecs, nullsNotDistinct: false, []);

        // Privileges before any EXPLAIN (which checks them too): every call needs INSERT on the written columns and SELECT
        // on the returned ones; only UpsertAsync needs UPDATE, and only on the columns it updates, so a role without it
        // gets a working insert-or-get and a message naming the grant at its first upsert.
        var facts = await TableFacts.ReadAsync(
            connection,
            tableOid,
            mapping.InsertColumns.Select(c => c.ColumnName),
            mapping.Columns.Select(c => c.ColumnName),
            draft.UpdateColumns.Select(c => c.ColumnName),
            cancellationToken).ConfigureAwait(false);
        var qualified = Sql.QualifiedName(schema, table);
        if (facts.MissingInsert.Count > 0 || facts.MissingSelect.Count > 0)
        {
            var grants = new List<string>();
            if (facts.MissingInsert.Count > 0)
            {
                grants.Add(TableFacts.Grant("INSERT", facts.MissingInsert, qualified, facts.Role));
            }

            if (facts.MissingSelect.Count > 0)
            {
                grants.Add(TableFacts.Grant("SELECT", facts.MissingSelect, qualified, facts.Role));
            }

            throw new TableMappingException(
                mapping.DisplayName,
                $"role \"{facts.Role}\" lacks privileges every write on this table needs (INSERT on the written " +
                $"columns, SELECT on the returned ones): {string.Join("; ", grants)};");
        }

        if (facts.Citus
            && await CitusCatalog.ReadDistributionColumnAsync(connection, tableOid, cancellationToken).ConfigureAwait(false) is { } distribution)
        {
            CheckDistributionColumn(mapping, keys, distribution);
        }

        var upsertDenied = facts.MissingUpdate.Count == 0
            ? null
            : $"role \"{facts.Role}\" lacks UPDATE on " +
                $"{string.Join(", ", facts.MissingUpdate.Select(c => $"\"{c}\""))}, which UpsertAsync and " +
                "UpsertManyAsync update on conflict (InsertOrGetAsync and InsertAsync need no UPDATE): " +
                $"{TableFacts.Grant("UPDATE", facts.MissingUpdate, qualified, facts.Role)};";
        var arbiters = await ExplainArbitersAsync(
            connection,
            mapping,
            tableOid,
            draft.InsertOrGetSql,
            mapping.InsertColumns.Count,
            cancellationToken).ConfigureAwait(false);
        var nullsNotDistinct = arbiters.Count > 0;
        foreach (var name in arbiters)
        {
            var index = await CatalogQueries.ReadIndexAsync(connection, schema, name, cancellationToken).ConfigureAwait(false);
            if (index?.IsDeferrable == true)
            {
                // The planner accepts a deferrable arbiter; only the executor refuses it (55000), on the first real insert.
                throw new TableMappingException(mapping.DisplayName, DeferrableMessage(name));
            }

            nullsNotDistinct &= index?.NullsNotDistinct == true;
        }

        // Without table-level SELECT the role cannot read xmax, so an upsert tells Inserted from Updated by trying the
        // insert first and updating only when it conflicted.
        var plan = SqlGenerator.Generate(mapping, keys, predicate, codecs, nullsNotDistinct, arbiters, facts, upsertDenied);
        await ExplainAsync(connection, mapping, plan.ReselectSql, plan.ReselectParameters.Length, cancellationToken).ConfigureAwait(false);
        await ExplainAsync(connection, mapping, plan.InsertSql, mapping.InsertColumns.Count, cancellationToken).ConfigureAwait(false);
        if (upsertDenied is null && (plan.UpdateSql ?? plan.UpsertSql) is { } upsert)
        {
            await ExplainAsync(connection, mapping, upsert, mapping.InsertColumns.Count, cancellationToken).ConfigureAwait(false);
        }

        logger.MappingResolved(mapping.DisplayName, mapping.RowType.Name, string.Join(", ", arbiters));
        return plan;
    }

    // Citus enforces a unique index shard by shard, so on a distributed table it only creates (and the planner only
    // arbitrates with) a unique index whose key includes the distribution column. Without this check the user would get
    // the generic "no unique index matches" from EXPLAIN, which does not say why the index they expected is missing.
    private static void CheckDistributionColumn(TableMapping mapping, IReadOnlyList<KeyElement> keys, string distribution)
    {
        if (keys.Any(k => k.Column?.ColumnName == distribution))
        {
            return;
        }

        var mapped = mapping.Columns.FirstOrDefault(c => c.ColumnName == distribution);
        var target = string.Join(", ", keys.Select(k => k.Column is { } c ? $"\"{c.ColumnName}\"" : k.Expression));
        throw new TableMappingException(
            mapping.DisplayName,
            $"the table is distributed by Citus on column \"{distribution}\", and the conflict target ({target}) does not " +
            "include it. Citus enforces uniqueness within one shard, so on a distributed table a unique index, and with it an " +
            "ON CONFLICT arbiter, must include the distribution column. " +
            (mapped is null ? $"Map column \"{distribution}\" (every insert into a distributed table needs it), then a" : "A") +
            $"dd it to the unique index and to the conflict target, e.g. ConflictOn(x => new {{ x.{mapped?.Property.Name ?? "…"}, … }}) " +
            $"over UNIQUE (\"{distribution}\", …); a key that must be unique across all shards needs a reference table " +
            "(create_reference_table) instead.");
    }

    private static KeyElement KeyFor(TableMapping mapping, string constraint, IndexKey key)
    {
        if (key.Column is null)
        {
            return KeyElement.ForExpression(key.Definition);
        }

        var column = mapping.Columns.FirstOrDefault(c => c.ColumnName == key.Column)
            ?? throw new TableMappingException(
                mapping.DisplayName,
                $"constraint \"{constraint}\" includes column \"{key.Column}\", which no property maps to; an insert-or-get needs every key value.");
        return column.IsGenerated
            ? throw new TableMappingException(
                mapping.DisplayName,
                $"constraint \"{constraint}\" includes column \"{key.Column}\", which is marked Generated; an " +
                "insert-or-get needs the key value before the insert (use a natural key as the conflict target).")
            : KeyElement.ForColumn(column);
    }

    private static async Task<(
        uint Oid,
        string Schema,
        string Table)> ReadTableAsync(NpgsqlConnection connection, TableMapping mapping, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(
            "SELECT c.oid, n.nspname, c.relname, c.relkind::text FROM pg_catalog.pg_class c JOIN " +
            "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = pg_catalog.to_regclass($1)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = mapping.QualifiedName });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new TableMappingException(
                mapping.DisplayName,
                mapping.Schema is null
                    ? $"table \"{mapping.Table}\" does not exist on the search_path (names are case-sensitive: {mapping.QualifiedName})."
                    : $"table {mapping.QualifiedName} does not exist (names are case-sensitive).");
        }

        var kind = reader.GetString(3);
        if (kind is not ("r" or "p"))
        {
            throw new TableMappingException(mapping.DisplayName, $"{mapping.QualifiedName} is not a table (relkind '{kind}').");
        }

        return (reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2));
    }

    private static async Task<Dictionary<string, CatalogColumn>> ReadColumnsAsync(
        NpgsqlConnection connection,
        uint tableOid,
        CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(
            """
            SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity::text, a.attgenerated::text, a.atttypid
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tableOid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var columns = new Dictionary<string, CatalogColumn>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var column = new CatalogColumn(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetBoolean(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetFieldValue<uint>(5));
            columns[column.Name] = column;
        }

        return columns;
    }

    private static void CheckColumns(TableMapping mapping, Dictionary<string, CatalogColumn> columns)
    {
        foreach (var column in mapping.Columns)
        {
            if (!columns.TryGetValue(column.ColumnName, out var catalog))
            {
                throw new TableMappingException(
                    mapping.DisplayName,
                    $"property {mapping.RowType.Name}.{column.Property.Name} maps to column " +
                    $"\"{column.ColumnName}\", which the table does not have (columns: " +
                    $"{string.Join(", ", columns.Keys)}). Rename it with HasColumnName(...) or Ignore(...) " +
                    "it" +
                    (columns.ContainsKey(column.Property.Name)
                        ? ", or map the table with ColumnNaming(ColumnNamingConvention.AsIs): it has a column named exactly " +
                            $"\"{column.Property.Name}\", as EF Core creates them"
                        : string.Empty) +
                    ".");
            }

            if (!column.IsGenerated && (catalog.Identity == "a" || catalog.Generated == "s"))
            {
                throw new TableMappingException(
                    mapping.DisplayName,
                    $"column \"{column.ColumnName}\" is " +
                    $"{(catalog.Identity == "a" ? "GENERATED ALWAYS AS IDENTITY" : "a generated column")}; mark " +
                    $"{mapping.RowType.Name}.{column.Property.Name} with Generated(...).");
            }
        }
    }

    private static async Task<IndexDefinition> ReadConstraintIndexAsync(
        NpgsqlConnection connection,
        TableMapping mapping,
        uint tableOid,
        string schema,
        string constraint,
        CancellationToken cancellationToken)
    {
        string? type = null;
        var deferrable = false;
        string? indexName = null;
        using (var command = new NpgsqlCommand(
            """
            SELECT con.contype::text, con.condeferrable, ic.relname
            FROM pg_catalog.pg_constraint con LEFT JOIN pg_catalog.pg_class ic ON ic.oid = con.conindid
            WHERE con.conrelid = $1 AND con.conname = $2
            """,
            connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = tableOid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
            command.Parameters.Add(new NpgsqlParameter { Value = constraint });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                type = reader.GetString(0);
                deferrable = reader.GetBoolean(1);
                indexName = reader.IsDBNull(2) ? null : reader.GetString(2);
            }
        }

        if (type is null)
        {
            var index = await CatalogQueries.ReadIndexAsync(connection, schema, constraint, cancellationToken).ConfigureAwait(false);
            throw new TableMappingException(
                mapping.DisplayName,
                index is not null && index.Table == mapping.Table
                    ? $"\"{constraint}\" is a unique index, not a constraint; ON CONFLICT ON CONSTRAINT cannot name " +
                        "it. Use ConflictOn(...) with its columns " +
                        $"({string.Join(", ", index.Keys.Select(k => k.Definition))})" +
                        (index.Predicate is null ? string.Empty : $" and Where(\"{index.Predicate}\")") +
                        "."
                    : $"the table has no constraint named \"{constraint}\" (names are case-sensitive).");
        }

        if (type is not ("u" or "p"))
        {
            throw new TableMappingException(
                mapping.DisplayName,
                $"constraint \"{constraint}\" is not a unique or primary-key constraint (contype '{type}'); an " +
                "insert-or-get can only re-select by equality.");
        }

        if (deferrable)
        {
            throw new TableMappingException(mapping.DisplayName, DeferrableMessage(constraint));
        }

        return await CatalogQueries.ReadIndexAsync(connection, schema, indexName!, cancellationToken).ConfigureAwait(false)
            ?? throw new TableMappingException(mapping.DisplayName, $"the index behind constraint \"{constraint}\" could not be read.");
    }

    private static string DeferrableMessage(string constraint)
        => $"constraint \"{constraint}\" is DEFERRABLE, and PostgreSQL cannot use a deferrable constraint as an ON " +
            "CONFLICT arbiter. Make it NOT DEFERRABLE, or add a non-deferrable unique index on the same columns " +
            "and use ConflictOn(...).";

    private static async Task<IReadOnlyList<string>> ExplainArbitersAsync(
        NpgsqlConnection connection,
        TableMapping mapping,
        uint tableOid,
        string sql,
        int parameterCount,
        CancellationToken cancellationToken)
    {
        string json;
        try
        {
            json = await ExplainAsync(connection, mapping, sql, parameterCount, cancellationToken).ConfigureAwait(false);
        }
        catch (TableMappingException ex) when (ex.InnerException is PostgresException pg)
        {
            throw await DescribeArbiterErrorAsync(connection, mapping, tableOid, pg, cancellationToken).ConfigureAwait(false) ?? ex;
        }

        using var document = JsonDocument.Parse(json);
        var plan = document.RootElement[0].GetProperty("Plan");
        return plan.TryGetProperty("Conflict Arbiter Indexes", out var arbiters)
            ? [.. arbiters.EnumerateArray().Select(a => a.GetString()!)]
            : [];
    }

    private static async Task<TableMappingException?> DescribeArbiterErrorAsync(
        NpgsqlConnection connection,
        TableMapping mapping,
        uint tableOid,
        PostgresException error,
        CancellationToken cancellationToken)
    {
        var target = SqlGenerator.ArbiterClause(mapping.Conflict);
        var deferrable = new List<string>();
        var partial = new List<string>();
        using (var command = new NpgsqlCommand(
            """
            SELECT ic.relname, pg_catalog.pg_get_expr(i.indpred, i.indrelid), coalesce(con.condeferrable, false)
            FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
            LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
            WHERE i.indrelid = $1 AND i.indisunique
            """,
            connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = tableOid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetBoolean(2))
                {
                    deferrable.Add(reader.GetString(0));
                }
                else if (!reader.IsDBNull(1))
                {
                    partial.Add($"{reader.GetString(0)} (WHERE {reader.GetString(1)})");
                }
            }
        }

        if (error.SqlState == PostgresErrorCodes.InvalidColumnReference)
        {
            var hint = partial.Count == 0
                ? "Create a unique index or constraint on exactly these columns/expressions."
                : $"Partial unique indexes exist: {string.Join(", ", partial)}; a partial index is only an arbiter " +
                    "when its predicate is given with Where(\"...\").";
            return new TableMappingException(mapping.DisplayName, $"no unique index or constraint matches ON CONFLICT {target}. {hint}", error);
        }

        if (deferrable.Count > 0 && error.SqlState is PostgresErrorCodes.ObjectNotInPrerequisiteState or PostgresErrorCodes.FeatureNotSupported)
        {
            return new TableMappingException(mapping.DisplayName, DeferrableMessage(deferrable[0]), error);
        }

        return null;
    }

    // Plans the statement with every parameter NULL; EXPLAIN (without ANALYZE) never executes it.
    private static async Task<string> ExplainAsync(
        NpgsqlConnection connection,
        TableMapping mapping,
        string sql,
        int parameterCount,
        CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand("EXPLAIN (FORMAT JSON, COSTS FALSE) " + sql, connection);
        for (var i = 0; i < parameterCount; i++)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = DBNull.Value });
        }

        try
        {
            return (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (PostgresException ex) when (!ErrorClassifier.IsTransientSqlState(ex.SqlState))
        {
            // Transient failures (shutdown, deadlock, too many connections) are not mapping errors: they propagate as is.
            throw new TableMappingException(
                mapping.DisplayName,
                $"PostgreSQL rejected the generated statement ({ex.SqlState}: {ex.MessageText}). Statement: {sql}",
                ex);
        }
    }
}

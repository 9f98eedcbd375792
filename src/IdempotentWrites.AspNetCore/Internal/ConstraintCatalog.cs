// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.AspNetCore.Internal;

// The key columns of a violated constraint (for an expression index, the columns its expressions read), for errors that carry only its name (a raw PostgresException from the app's
// own data access, or one wrapped by EF Core). Catalog definitions, not coordination state, so a per-process cache is safe.
internal sealed class ConstraintCatalog(IServiceProvider services, ILogger<ConstraintCatalog> logger)
{
    // Constraint columns (src 0); else the named index's plain key columns (src 1), then the columns its key expressions
    // read (src 2) — never the columns only in a partial index's predicate or in INCLUDE. pg_depend lists all of those
    // alike, so expression columns are read from pg_index.indexprs, whose node tree writes each column reference as
    // "{VAR :varno 1 :varattno N ..." from PostgreSQL 13 to 18 (constants are written as bytes, names as escaped tokens).
    private const string Sql = """
        WITH ix AS (
            SELECT i.indrelid, i.indkey, i.indnkeyatts, i.indexprs
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
        SELECT 2, m.ord, a.attname::text
        FROM ix
        CROSS JOIN LATERAL regexp_matches(ix.indexprs::text, '\{VAR :varno \d+ :varattno (\d+) ', 'g') WITH ORDINALITY AS m(v, ord)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = m.v[1]::int2
        ORDER BY 1, 2
        """;

    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<(string Schema, string Table, string Constraint), string[]> _columns = new();

    public async ValueTask<IReadOnlyList<string>> GetColumnsAsync(string? schema, string? table, string? constraint, CancellationToken cancellationToken)
    {
        if (schema is null || table is null || constraint is null)
        {
            return [];
        }

        if (_columns.TryGetValue((schema, table, constraint), out var cached))
        {
            return cached;
        }

        try
        {
            var dataSource = services.GetService<IdempotentWritesDataSource>()?.DataSource;
            if (dataSource is null)
            {
                return [];
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(LookupTimeout);
            var command = dataSource.CreateCommand(Sql);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = constraint, NpgsqlDbType = NpgsqlDbType.Text });
                var columns = new List<string>();
                var reader = await command.ExecuteReaderAsync(timeout.Token).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(timeout.Token).ConfigureAwait(false))
                    {
                        columns.Add(reader.GetString(2));
                    }
                }

                // An expression may read a key column again, or one column twice: each is listed once, first place kept.
                var result = columns.Distinct(StringComparer.Ordinal).ToArray();
                if (result.Length > 0)
                {
                    _columns[(schema, table, constraint)] = result;
                }

                return result;
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The violation matters more than its decoration: answer it without fields.
            logger.ConstraintLookupFailed(constraint, ex);
            return [];
        }
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Catalog;

// Column types as the catalog describes them: domains resolved to their base type (also nested and under arrays),
// arrays to their element type, enums to their labels in sort order.
internal static class TypeCatalog
{
    private const string BaseSql = """
        WITH RECURSIVE chain(start, oid) AS (
            SELECT t.oid, t.oid FROM pg_catalog.pg_type t WHERE t.oid = ANY ($1)
            UNION ALL
            SELECT c.start, t.typbasetype FROM chain c JOIN pg_catalog.pg_type t ON t.oid = c.oid WHERE t.typtype = 'd')
        SELECT c.start, b.oid, n.nspname, b.typname, b.typtype::text, b.typcategory::text, b.typelem,
               sn.nspname, s.typname, s.typtype::text, s.typcategory::text
        FROM chain c
        JOIN pg_catalog.pg_type b ON b.oid = c.oid
        JOIN pg_catalog.pg_namespace n ON n.oid = b.typnamespace
        JOIN pg_catalog.pg_type s ON s.oid = c.start
        JOIN pg_catalog.pg_namespace sn ON sn.oid = s.typnamespace
        WHERE b.typtype <> 'd'
        """;

    private const string LabelsSql = """
        SELECT e.enumtypid, e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = ANY ($1) ORDER BY e.enumtypid, e.enumsortorder
        """;

    private sealed record Resolved(PgType Declared, PgType Base, uint Element);

    // Keyed by the column's type oid; Display is the column's format_type with typmod (for messages).
    public static async Task<Dictionary<uint, ColumnType>> ReadAsync(
        NpgsqlConnection connection, IReadOnlyDictionary<uint, string> displays, CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(connection, [.. displays.Keys], cancellationToken).ConfigureAwait(false);
        var elements = await ResolveAsync(
            connection,
            [.. resolved.Values.Where(r => r.Base.Category == 'A' && r.Element != 0).Select(r => r.Element).Distinct()],
            cancellationToken).ConfigureAwait(false);
        var enums = resolved.Values.Select(r => r.Base).Concat(
            elements.Values.Select(e => e.Base)).Where(t => t.IsEnum).Select(t => t.Oid).Distinct().ToArray();
        var labels = await ReadLabelsAsync(connection, enums, cancellationToken).ConfigureAwait(false);

        var result = new Dictionary<uint, ColumnType>();
        foreach (var (oid, display) in displays)
        {
            var r = resolved[oid];
            var element = r.Base.Category == 'A' && elements.TryGetValue(r.Element, out var e) ? e.Base : null;
            var enumOid = (element ?? r.Base).IsEnum ? (element ?? r.Base).Oid : 0u;
            result[oid] = new ColumnType(r.Declared.SqlName, display, r.Base, element, labels.TryGetValue(enumOid, out var l) ? l : []);
        }

        return result;
    }

    private static async Task<Dictionary<uint, Resolved>> ResolveAsync(NpgsqlConnection connection, uint[] oids, CancellationToken cancellationToken)
    {
        var result = new Dictionary<uint, Resolved>();
        if (oids.Length == 0)
        {
            return result;
        }

        using var command = new NpgsqlCommand(BaseSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = oids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Oid });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var start = reader.GetFieldValue<uint>(0);
                var baseType = new PgType(
                    reader.GetFieldValue<uint>(1),
                    reader.GetString(2),
                    reader.GetString(3),
                    reader.GetString(4)[0],
                    reader.GetString(5)[0]);
                var declared = new PgType(start, reader.GetString(7), reader.GetString(8), reader.GetString(9)[0], reader.GetString(10)[0]);
                result[start] = new Resolved(declared, baseType, reader.GetFieldValue<uint>(6));
            }
        }

        return result;
    }

    private static async Task<Dictionary<uint, IReadOnlyList<string>>> ReadLabelsAsync(
        NpgsqlConnection connection,
        uint[] enums,
        CancellationToken cancellationToken)
    {
        var result = new Dictionary<uint, IReadOnlyList<string>>();
        if (enums.Length == 0)
        {
            return result;
        }

        using var command = new NpgsqlCommand(LabelsSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = enums, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Oid });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var oid = reader.GetFieldValue<uint>(0);
                if (!result.TryGetValue(oid, out var list))
                {
                    result[oid] = list = new List<string>();
                }

                ((List<string>)list).Add(reader.GetString(1));
            }
        }

        return result;
    }
}

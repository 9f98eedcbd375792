// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal;

internal static class BulkCatalog
{
    // The type each column's values are written as in a binary COPY: the column's type, or a domain's base type.
    public static async Task<Dictionary<string, string>> ReadCopyTypesAsync(NpgsqlConnection connection, string qualifiedTable, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(
            """
            SELECT a.attname, n.nspname, t.typname
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_type d ON d.oid = a.atttypid
            JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END
            JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
            WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = qualifiedTable });
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                types[reader.GetString(0)] = reader.GetString(1) + "." + reader.GetString(2);
            }
        }

        return types;
    }
}

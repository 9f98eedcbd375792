// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Catalog;

// Citus keeps each distributed table's distribution column in pg_dist_partition (a serialized Var that
// column_to_column_name turns back into a name). Reference tables and Citus-managed local tables have no partkey: they
// are not split by a column, and any unique index arbitrates as on plain PostgreSQL. Only read when TableFacts.Citus
// says the catalog exists: the statement could not even be parsed on a server without the extension.
internal static class CitusCatalog
{
    private const string DistributionColumnSql = """
        SELECT CASE WHEN p.partkey IS NULL OR p.partkey = '' THEN NULL
                    ELSE pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END
        FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1::pg_catalog.oid::pg_catalog.regclass
        """;

    public static async Task<string?> ReadDistributionColumnAsync(NpgsqlConnection connection, uint tableOid, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(DistributionColumnSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tableOid, NpgsqlDbType = NpgsqlDbType.Oid });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }
}

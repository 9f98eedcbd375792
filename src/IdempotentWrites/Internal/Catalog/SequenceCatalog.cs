// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Sequences;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Catalog;

// Finds every column fed by a sequence from pg_depend and pg_attrdef — never from information_schema or primary keys,
// which miss non-key columns, shared sequences, unowned sequences and every table the role does not own.
internal static class SequenceCatalog
{
    // Two kinds of link, both found from pg_sequence through pg_depend's indexes:
    //  * identity columns: the identity sequence has an internal ('i') dependency on its column;
    //  * column defaults: the pg_attrdef row depends ('n') on every sequence its expression names as a regclass constant —
    //    serial columns (whose sequence is also owned, 'a', by the column) and any DEFAULT nextval('s'), owned or not.
    // $1 restricts to some sequences, $2 to the sequences that feed some tables (all their links are still returned).
    private const string DiscoverSql = """
        WITH links AS (
            SELECT d.objid AS seqid, d.refobjid AS relid, d.refobjsubid::int2 AS attnum,
                   CASE a.attidentity WHEN 'a' THEN 1 ELSE 2 END AS kind, NULL::text AS expr
            FROM pg_catalog.pg_sequence ps
            JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = ps.seqrelid
                                        AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'i'
            JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE a.attidentity IN ('a', 'd')
            UNION ALL
            SELECT ps.seqrelid, ad.adrelid, ad.adnum,
                   CASE WHEN EXISTS (
                       SELECT FROM pg_catalog.pg_depend o
                       WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objid = ps.seqrelid
                         AND o.refclassid = 'pg_catalog.pg_class'::regclass AND o.refobjid = ad.adrelid
                         AND o.refobjsubid = ad.adnum AND o.deptype = 'a') THEN 0 ELSE 3 END,
                   pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
            FROM pg_catalog.pg_sequence ps
            JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = ps.seqrelid
                                        AND d.classid = 'pg_catalog.pg_attrdef'::regclass
            JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
        )
        SELECT s.oid, sn.nspname, s.relname, ps.seqstart, ps.seqincrement, ps.seqmin, ps.seqmax, ps.seqcycle, ps.seqcache,
               pg_catalog.has_schema_privilege(sn.oid, 'USAGE'),
               pg_catalog.has_sequence_privilege(s.oid, 'SELECT'),
               pg_catalog.has_sequence_privilege(s.oid, 'USAGE'),
               pg_catalog.has_sequence_privilege(s.oid, 'UPDATE'),
               t.oid, tn.nspname, t.relname, t.relkind::text, t.relispartition,
               CASE WHEN t.relispartition
                    THEN ARRAY(SELECT pa.relid FROM pg_catalog.pg_partition_ancestors(t.oid) pa WHERE pa.relid <> t.oid)
                    ELSE '{}'::regclass[] END::oid[],
               a.attname, l.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod),
               COALESCE(NULLIF(ty.typbasetype, 0), a.atttypid),
               l.kind, l.expr, a.attnotnull,
               pg_catalog.has_schema_privilege(tn.oid, 'USAGE') AND pg_catalog.has_column_privilege(t.oid, l.attnum, 'SELECT'),
               pg_catalog.row_security_active(t.oid),
               pg_catalog.has_schema_privilege(tn.oid, 'USAGE')
                   AND pg_catalog.has_table_privilege(t.oid, 'UPDATE, DELETE, TRUNCATE')
        FROM links l
        JOIN pg_catalog.pg_class s ON s.oid = l.seqid AND s.relkind = 'S'
        JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
        JOIN pg_catalog.pg_sequence ps ON ps.seqrelid = s.oid
        JOIN pg_catalog.pg_class t ON t.oid = l.relid AND t.relkind IN ('r', 'p')
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = l.attnum AND NOT a.attisdropped
        JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
        WHERE tn.nspname NOT IN ('pg_catalog', 'information_schema')
          AND tn.nspname !~ '^pg_(toast|temp_|toast_temp_)'
          AND ($1::oid[] IS NULL OR s.oid = ANY ($1))
          AND ($2::oid[] IS NULL OR s.oid IN (SELECT seqid FROM links WHERE relid = ANY ($2)))
        ORDER BY sn.nspname, s.relname, tn.nspname, t.relname, l.attnum
        """;

    public static async Task<List<SequenceInfo>> DiscoverAsync(
        NpgsqlConnection connection,
        IReadOnlyList<uint>? sequenceOids,
        IReadOnlyList<uint>? tableOids,
        CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(DiscoverSql, connection);
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)sequenceOids?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Oid });
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)tableOids?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Oid });
        var sequences = new List<SequenceInfo>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var oid = reader.GetFieldValue<uint>(0);
                if (sequences.Count == 0 || sequences[^1].Oid != oid)
                {
                    sequences.Add(new SequenceInfo
                    {
                        Oid = oid,
                        Schema = reader.GetString(1),
                        Name = reader.GetString(2),
                        Start = reader.GetInt64(3),
                        Increment = reader.GetInt64(4),
                        Min = reader.GetInt64(5),
                        Max = reader.GetInt64(6),
                        Cycle = reader.GetBoolean(7),
                        Cache = reader.GetInt64(8),
                        SchemaUsage = reader.GetBoolean(9),
                        CanSelect = reader.GetBoolean(10),
                        CanUsage = reader.GetBoolean(11),
                        CanUpdate = reader.GetBoolean(12),
                    });
                }

                sequences[^1].Links.Add(new SequenceLink(
                    TableOid: reader.GetFieldValue<uint>(13),
                    Schema: reader.GetString(14),
                    Table: reader.GetString(15),
                    RelKind: reader.GetString(16)[0],
                    IsPartition: reader.GetBoolean(17),
                    Ancestors: reader.GetFieldValue<uint[]>(18),
                    Column: reader.GetString(19),
                    AttNum: reader.GetInt16(20),
                    DataType: reader.GetString(21),
                    BaseTypeOid: reader.GetFieldValue<uint>(22),
                    Kind: (SequenceColumnKind)reader.GetInt32(23),
                    DefaultExpression: reader.IsDBNull(24) ? null : reader.GetString(24),
                    NotNull: reader.GetBoolean(25),
                    CanRead: reader.GetBoolean(26),
                    RowSecurityActive: reader.GetBoolean(27),
                    CanLock: reader.GetBoolean(28)));
            }
        }

        foreach (var sequence in sequences)
        {
            DropCoveredPartitions(sequence);
        }

        return sequences;
    }

    // A partition created with PARTITION OF copies its parent's serial default, so it links to the same sequence; scanning
    // the parent already reads its rows. Keep only the topmost table of each partition tree that draws from the sequence.
    public static void DropCoveredPartitions(SequenceInfo sequence)
    {
        var tables = sequence.Links.Select(l => l.TableOid).ToHashSet();
        sequence.Links.RemoveAll(l => l.IsPartition && l.Ancestors.Any(tables.Contains));
    }

    // The oid of a table named literally (case-sensitive); without a schema, the first match on the search_path.
    public static async Task<uint?> ResolveTableAsync(NpgsqlConnection connection, string? schema, string table, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(
            "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1) AND c.relkind IN ('r', 'p')",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Sql.QualifiedName(schema, table), NpgsqlDbType = NpgsqlDbType.Text });
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is uint oid ? oid : null;
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Sequences;

// Tells the four causes of a duplicate-key error apart, from facts the database still holds:
//  * a key column fed by a sequence that is behind its data -> sequence drift;
//  * a key column fed by a healthy sequence -> the value was supplied explicitly (a sequence never repeats a value);
//  * a natural key (no sequence) with the row still there -> a natural-key duplicate;
//  * the key's row is gone (its inserter rolled back or it was deleted) -> a race between writers, the remaining explanation.
internal static class DuplicateKeyDiagnoser
{
    private const string IndexSql = """
        SELECT ns.nspname, ic.relname, tn.nspname, tc.relname, i.indrelid, i.indisprimary,
               ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
               ARRAY(SELECT a.attname FROM generate_series(1, i.indnkeyatts) k
                     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] ORDER BY k),
               ARRAY(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM generate_series(1, i.indnkeyatts) k
                     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] ORDER BY k),
               array_position(pg_catalog.current_schemas(false), ns.nspname),
               ARRAY(SELECT pa.relid FROM pg_catalog.pg_partition_ancestors(i.indrelid) pa)::oid[],
               pg_catalog.has_schema_privilege(tn.oid, 'USAGE') AND pg_catalog.has_table_privilege(tc.oid, 'SELECT')
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_catalog.pg_namespace ns ON ns.oid = ic.relnamespace
        JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
        JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
        WHERE i.indisunique AND ic.relname = ANY ($1)
        """;

    public static async Task<DuplicateKeyDiagnosis?> DiagnoseAsync(
        NpgsqlDataSource dataSource,
        string text,
        SequenceDoctorOptions options,
        CancellationToken cancellationToken)
    {
        var parsed = DuplicateKeyText.Parse(text);
        if (parsed.Candidates.Count == 0)
        {
            return null;
        }

        UniqueIndex index;
        List<SequenceInfo> sequences;
        IReadOnlyDictionary<string, string?>? values;
        bool? exists = null;
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var found = await FindAsync(connection, parsed, cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                return null;
            }

            index = found;
            sequences = await SequenceCatalog.DiscoverAsync(connection, null, index.TableOids, cancellationToken).ConfigureAwait(false);
            sequences.RemoveAll(s => !s.Links.Any(l => index.TableOids.Contains(l.TableOid) && index.Columns.Contains(l.Column)));
            values = parsed.ValuesFor(index.Definitions);
            if (values is not null && index.CanRead && index.Columns.All(c => c is not null) && values.Values.All(v => v is not null))
            {
                exists = await RowExistsAsync(connection, index, values, cancellationToken).ConfigureAwait(false);
            }
        }

        var findings = await SequenceScanner.ScanAsync(dataSource, sequences, options, null, cancellationToken).ConfigureAwait(false);
        var sequence = findings.FirstOrDefault(f => f.Status == SequenceStatus.Drifted) ?? findings.FirstOrDefault();
        var key = $"({string.Join(", ", index.Definitions)})";
        var where = $"{(index.IsPrimaryKey ? "primary key" : "unique key")} {SequenceText.Ident(index.Name)} on " +
            $"{SequenceText.Name(index.TableSchema, index.Table)} {key}";
        DuplicateKeyCause cause;
        string explanation;
        if (sequence is { Status: SequenceStatus.Drifted })
        {
            cause = DuplicateKeyCause.SequenceDrift;
            explanation = $"Sequence drift: {where} is fed by sequence {sequence.DisplayName}, which hands out " +
                $"{SequenceText.Value(sequence.NextValue)} next while the data already reaches " +
                $"{SequenceText.Value(sequence.DataExtreme)}, so default inserts collide with existing rows. The " +
                $"next default insert must get {SequenceText.Value(sequence.RequiredNextValue)}: repair the sequence.";
        }
        else if (exists == false)
        {
            cause = DuplicateKeyCause.Race;
            explanation = $"A race: no row with the conflicting {key} exists now, so a concurrent transaction " +
                "inserted it and then rolled back or deleted it. Retry the write, or use InsertOrGetAsync / " +
                "UpsertAsync, which turn a race into a result.";
        }
        else if (sequence is not null)
        {
            cause = DuplicateKeyCause.ExplicitIdConflict;
            explanation = $"An explicit-id conflict: {where} is fed by sequence {sequence.DisplayName}, which is " +
                $"{(sequence.Status == SequenceStatus.Skipped ? "not readable here (" + sequence.Reason + ")" : "not behind its data")}; " +
                "a sequence never hands out a value twice, so the conflicting value was supplied explicitly (an " +
                "import, a copied row, OVERRIDING SYSTEM VALUE). Let the database generate the key, or upsert on it.";
        }
        else
        {
            cause = DuplicateKeyCause.NaturalKeyDuplicate;
            explanation = $"A natural-key duplicate: a row with the same {key} " +
                $"{(exists == true ? "exists" : "already existed")} in " +
                $"{SequenceText.Name(index.TableSchema, index.Table)}. Look the row up by {key} and update it, or " +
                "use InsertOrGetAsync / UpsertAsync; if two requests inserted it at the same moment, that was a " +
                "race, which those calls turn into a result.";
        }

        return new DuplicateKeyDiagnosis(
            cause,
            index.TableSchema,
            index.Table,
            index.Name,
            index.IsPrimaryKey,
            index.Definitions,
            sequence,
            values,
            exists,
            explanation);
    }

    private static async Task<UniqueIndex?> FindAsync(NpgsqlConnection connection, DuplicateKeyText parsed, CancellationToken cancellationToken)
    {
        var all = new List<UniqueIndex>();
        using (var command = new NpgsqlCommand(IndexSql, connection))
        {
            command.Parameters.Add(new NpgsqlParameter
            {
                Value = parsed.Candidates.Select(c => c.Name).Distinct().ToArray(),
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
            });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var tableOid = reader.GetFieldValue<uint>(4);
                    all.Add(new UniqueIndex(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        reader.GetBoolean(5),
                        reader.GetFieldValue<string[]>(6),
                        reader.GetFieldValue<string?[]>(7),
                        reader.GetFieldValue<string?[]>(8),
                        reader.IsDBNull(9) ? null : reader.GetInt32(9),
                        [tableOid, .. reader.GetFieldValue<uint[]>(10).Where(o => o != tableOid)],
                        reader.GetBoolean(11)));
                }
            }
        }

        foreach (var (schema, name) in parsed.Candidates)
        {
            var matches = all.Where(i => i.Name == name && (schema is null || i.Schema == schema)).ToList();
            if (matches.Count <= 1)
            {
                if (matches.Count == 1)
                {
                    return matches[0];
                }

                continue;
            }

            // The same index name in several schemas: the error came from the one the application resolves first.
            var onPath = matches.Where(m => m.SearchPathPosition is not null).OrderBy(m => m.SearchPathPosition).FirstOrDefault();
            return onPath ?? throw new InvalidOperationException(
                $"\"{name}\" names unique constraints in several schemas " +
                $"({string.Join(", ", matches.Select(m => SequenceText.Ident(m.Schema)))}); pass it as " +
                $"schema.{SequenceText.Ident(name)}.");
        }

        return null;
    }

    // Casts each text value to its column's type, so an index on the key serves the lookup.
    private static async Task<bool?> RowExistsAsync(
        NpgsqlConnection connection,
        UniqueIndex index,
        IReadOnlyDictionary<string, string?> values,
        CancellationToken cancellationToken)
    {
        var conditions = index.Columns.Select((c, i) => $"{Sql.Quote(c!)} = CAST(${i + 1} AS {index.Types[i]})");
        using var command = new NpgsqlCommand(
            $"SELECT EXISTS (SELECT FROM {Sql.QualifiedName(index.TableSchema, index.Table)} WHERE {string.Join(" AND ", conditions)})",
            connection);
        foreach (var definition in index.Definitions)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = values[definition]!, NpgsqlDbType = NpgsqlDbType.Text });
        }

        try
        {
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (PostgresException)
        {
            // A value that does not parse as its type (the detail was cut or edited) or a privilege missing on a column.
            return null;
        }
    }

    private sealed record UniqueIndex(
        string Schema,
        string Name,
        string TableSchema,
        string Table,
        bool IsPrimaryKey,
        IReadOnlyList<string> Definitions,
        IReadOnlyList<string?> Columns,
        IReadOnlyList<string?> Types,
        int? SearchPathPosition,
        IReadOnlyList<uint> TableOids,
        bool CanRead);
}

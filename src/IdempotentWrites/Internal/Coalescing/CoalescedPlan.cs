// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Writing;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Coalescing;

// The statements that write many callers' rows at once: each insert column travels as one array parameter cast to the
// column's own type, unnest … WITH ORDINALITY numbers the rows in arrival order, and the server, not the client, decides
// which rows share a key (row_number() over the key columns, compared with the columns' types: citext, char(n), numeric
// scale all behave as in the unique index). Only the first row of each key is written, in key order, so two instances'
// statements lock keys in the same order and cannot deadlock. The answer names each caller by its ordinal.
internal sealed class CoalescedPlan
{
    private const string Input = "iw_in";
    private const string Written = "iw_new";

    // What KeyOf makes of the key column's values: string, long or Guid (null: no keyed insert).
    private readonly Type? _keyedClr;

    private CoalescedPlan(WritePlan plan, int[] keyIndexes, string insertOrGet, string? upsert, string reselect, Type? keyedClr, string? keyedInsert)
    {
        Plan = plan;
        KeyIndexes = keyIndexes;
        InsertOrGetSql = insertOrGet;
        UpsertSql = upsert;
        ReselectSql = reselect;
        _keyedClr = keyedClr;
        KeyedInsertSql = keyedInsert;
    }

    public WritePlan Plan { get; }

    // Indexes into the insert columns of the key columns, in key order: the re-select's parameters.
    public int[] KeyIndexes { get; }

    // Answers (ordinal, inserted by it, row…) for every caller whose key was inserted now or stored before the statement
    // began; parameters: every insert column.
    public string InsertOrGetSql { get; }

    // Answers (ordinal, true, row…, inserted) for the first caller of each key that was inserted or updated; null when the
    // table's upsert has nothing to update or the role cannot read xmax (then upserts are written call by call).
    public string? UpsertSql { get; }

    // Answers (ordinal, first of its key, row…) for every caller whose key is stored; parameters: the key columns.
    public string ReselectSql { get; }

    // For a key of one column whose values the client compares exactly as the server does (KeyOf): the rows in a plain
    // INSERT … ON CONFLICT DO NOTHING RETURNING row…, key, in key order as the server sorts it (the order InsertOrGetSql
    // writes in, so statements of either kind, from any instance, lock keys in one order). The client sends only the first
    // caller of each key and answers by the returned key; a key not returned is left to ReselectSql. Without the
    // numbering, the join and the lookup of stored keys, a statement of 32 new text keys took 0.84 ms against 0.97 ms
    // (pgbench, interleaved, each with the same 0.20 ms of key generation). Null for other keys.
    public string? KeyedInsertSql { get; }

    // Offset of the row in every answer (after ordinal and first).
    public static int RowOffset => 2;

    // A key value (as sent, or as read back) as the client compares it: an int2/int4/int8 key as a long, a uuid key as a
    // Guid, a text or varchar key as an ordinal string (a domain over them too); null for a value of any other kind, so
    // that a value sent in another form than the column reads back in never goes the keyed way.
    public object? KeyOf(object? value)
    {
        var key = value switch
        {
            string or Guid => value,
            long or int or short or sbyte or byte or ushort or uint => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        };
        return key?.GetType() == _keyedClr ? key : null;
    }

    // Null when the table cannot be written this way: a key that is an expression (the server would have to evaluate it
    // per row of the input, and a caller could no longer be told by its key columns), a partial arbiter (rows outside its
    // predicate never conflict, so two callers with one key are two rows), an array column (unnest would flatten it), or
    // a column sent with a type Npgsql infers (no array type to name).
    public static CoalescedPlan? Create(WritePlan plan)
    {
        var mapping = plan.Mapping;
        var codecs = plan.Codecs.Insert;
        if (plan.Keys.Count == 0 || plan.Predicate is not null || plan.Keys.Any(k => k.Column is null || k.Column.IsGenerated)
            || codecs.Any(c => c.Type.Element is not null || c.WireType is not { } wire || wire.HasFlag(NpgsqlDbType.Array)))
        {
            return null;
        }

        var insertColumns = mapping.InsertColumns;
        var keyIndexes = plan.Keys.Select(k => IndexOf(insertColumns, k.Column!)).ToArray();
        var input = InputColumns(codecs.Count);
        var keys = string.Join(", ", keyIndexes.Select(i => input[i]));
        var arrays = string.Join(", ", codecs.Select((c, i) => $"${i + 1}::{c.ParameterCast}[]"));
        var numbered = $"SELECT iw_u.*, row_number() OVER (PARTITION BY {keys} ORDER BY iw_u.iw_ord) = 1 AS iw_first " +
            $"FROM unnest({arrays}) WITH ORDINALITY AS iw_u({string.Join(", ", input)}, iw_ord)";
        var columnList = string.Join(", ", insertColumns.Select(c => c.QuotedName));
        var returnedKeys = string.Join(", ", plan.Keys.Select((k, j) => $"{k.Column!.QuotedName} AS iw_k{j + 1}"));
        var matches = string.Join(
            " AND ",
            keyIndexes.Select((index, j) => Equal($"{Written}.iw_k{j + 1}", $"{Input}.{input[index]}", plan.NullsNotDistinct)));
        var write = $"WITH {Input} AS ({numbered}), {Written} AS (INSERT INTO {mapping.QualifiedName} AS {SqlGenerator.TargetAlias} " +
            $"({columnList}) SELECT {string.Join(", ", input)} FROM {Input} WHERE iw_first ORDER BY {keys} " +
            $"ON CONFLICT {SqlGenerator.ArbiterClause(mapping.Conflict)} ";
        var answer = $") SELECT {Input}.iw_ord, {Input}.iw_first, {Written}.* FROM {Written} JOIN {Input} ON {matches}";
        var returning = plan.Codecs.SelectList;
        var keyInput = keyIndexes.Select(i => input[i]).ToList();
        var found = string.Join(
            " AND ",
            plan.Keys.Select((k, j) => Equal($"{SqlGenerator.TargetAlias}.{k.Column!.QuotedName}", $"{Input}.{keyInput[j]}", plan.NullsNotDistinct)));

        // The rows stored before the statement began, for the keys it did not insert (its snapshot cannot see its own
        // inserts, so the anti-join only spares the index lookups that would find nothing: 8 % of the server time of 32
        // fresh rows). A row committed meanwhile by a transaction the insert waited for is not in that snapshot: its
        // caller is answered by ReselectSql, a statement of its own.
        var existing = $" UNION ALL SELECT {Input}.iw_ord, false, iw_row.* FROM {Input} CROSS JOIN LATERAL (SELECT {returning}, " +
            $"{returnedKeys} FROM {mapping.QualifiedName} AS {SqlGenerator.TargetAlias} WHERE {found} LIMIT 1) AS iw_row " +
            $"WHERE NOT EXISTS (SELECT 1 FROM {Written} WHERE {matches})";
        var insertOrGet = $"{write}DO NOTHING RETURNING {returning}, {returnedKeys}{answer}{existing}";

        string? upsert = null;
        if (plan.UpsertSql is not null && plan.UpdateColumns.Count > 0)
        {
            upsert = $"{write}{SqlGenerator.UpsertAction(plan.Codecs, plan.UpdateColumns)} RETURNING {returning}, " +
                $"({SqlGenerator.TargetAlias}.xmax = 0) AS {SqlGenerator.InsertedColumn}, {returnedKeys}{answer} AND {Input}.iw_first";
        }

        var keyArrays = string.Join(", ", keyIndexes.Select((index, j) => $"${j + 1}::{codecs[index].ParameterCast}[]"));

        // One index lookup per caller (LATERAL … LIMIT 1 keeps the planner from a hash join over the whole table).
        var reselect = $"SELECT {Input}.iw_ord, row_number() OVER (PARTITION BY {string.Join(", ", keyInput.Select(k => $"{Input}.{k}"))} " +
            $"ORDER BY {Input}.iw_ord) = 1 AS iw_first, iw_row.* " +
            $"FROM unnest({keyArrays}) WITH ORDINALITY AS {Input}({string.Join(", ", keyInput)}, iw_ord) " +
            $"CROSS JOIN LATERAL (SELECT {returning} FROM {mapping.QualifiedName} AS {SqlGenerator.TargetAlias} WHERE {found} LIMIT 1) AS iw_row";
        string? keyed = null;
        var keyedClr = keyIndexes.Length == 1 && !plan.NullsNotDistinct ? ComparedByValue(codecs[keyIndexes[0]].Type) : null;
        if (keyedClr is not null)
        {
            keyed = $"INSERT INTO {mapping.QualifiedName} AS {SqlGenerator.TargetAlias} ({columnList}) SELECT {string.Join(", ", input)} " +
                $"FROM unnest({arrays}) AS iw_u({string.Join(", ", input)}) ORDER BY {keys} " +
                $"ON CONFLICT {SqlGenerator.ArbiterClause(mapping.Conflict)} DO NOTHING RETURNING {returning}, {returnedKeys}";
        }

        return new CoalescedPlan(plan, keyIndexes, insertOrGet, upsert, reselect, keyedClr, keyed);
    }

    // One array parameter per insert column (or per key column: subset), element i being row i's value exactly as the
    // single-row statement sends it. An object[] typed by the column's NpgsqlDbType: Npgsql binds each element by its own
    // runtime type, as it binds a single parameter.
    public NpgsqlParameter[] Arrays(IReadOnlyList<object?[]> rows, int[]? subset)
    {
        var codecs = Plan.Codecs.Insert;
        var count = subset?.Length ?? codecs.Count;
        var parameters = new NpgsqlParameter[count];
        for (var p = 0; p < count; p++)
        {
            var column = subset is null ? p : subset[p];
            var codec = codecs[column];
            var values = new object?[rows.Count];
            for (var r = 0; r < values.Length; r++)
            {
                var value = codec.ToParameter(rows[r][column]);
                values[r] = value is DBNull ? null : value;
            }

            parameters[p] = new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | codec.WireType!.Value, Value = values };
        }

        return parameters;
    }

    // Built-in types whose equality is their value's (no case folding as citext, no padding as char(n), no scale as
    // numeric), so that the client can tell which callers share a key. Under a nondeterministic collation, where two
    // strings can be one key, both are sent: DO NOTHING skips the second, and the re-select answers its caller. Returns the
    // kind KeyOf makes of its values, or null for any other type.
    private static Type? ComparedByValue(ColumnType type)
        => type.Element is not null || !type.Base.IsBuiltIn ? null
            : type.Base.TypeName switch
            {
                "text" or "varchar" => typeof(string),
                "int2" or "int4" or "int8" => typeof(long),
                "uuid" => typeof(Guid),
                _ => null,
            };

    private static string Equal(string left, string right, bool nullsNotDistinct)
        => nullsNotDistinct ? $"({left} = {right} OR ({left} IS NULL AND {right} IS NULL))" : $"{left} = {right}";

    private static string[] InputColumns(int count) => [.. Enumerable.Range(1, count).Select(i => $"iw_c{i}")];

    private static int IndexOf(IReadOnlyList<ColumnMapping> columns, ColumnMapping column)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (ReferenceEquals(columns[i], column))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Column {column.ColumnName} is not an insert column.");
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Writing;

namespace IdempotentWrites.Internal.Postgres;

// Pure SQL generation: identifiers quoted, every value a positional parameter ($1, $2, …).
internal static class SqlGenerator
{
    public const string TargetAlias = "iw_target";
    public const string InsertedColumn = "iw_inserted";

    public static WritePlan Generate(
        TableMapping mapping,
        IReadOnlyList<KeyElement> keys,
        string? predicate,
        ColumnCodecs codecs,
        bool nullsNotDistinct,
        IReadOnlyList<string> arbiterIndexes,
        TableFacts? facts = null,
        string? upsertDenied = null)
    {
        var useXmax = facts?.CanReadSystemColumns ?? true;
        var insertColumns = mapping.InsertColumns;
        var columnList = string.Join(", ", insertColumns.Select(c => c.QuotedName));
        var values = string.Join(", ", insertColumns.Select((c, i) => codecs.Parameter(i + 1, c)));
        var returning = codecs.SelectList;
        var arbiter = ArbiterClause(mapping.Conflict);

        var insert = $"INSERT INTO {mapping.QualifiedName} ({columnList}) VALUES ({values})";
        var (reselect, reselectParameters) = Reselect(mapping, keys, predicate, codecs, nullsNotDistinct, returning);

        var keyColumns = keys.Where(k => k.Column is not null).Select(k => k.Column!).ToHashSet();
        var updates = (mapping.UpdateColumns ?? insertColumns.Where(c => !keyColumns.Contains(c)).ToList())
            .Where(c => !c.IsGenerated)
            .ToList();
        string? upsert = null;
        string? update = null;
        if (updates.Count > 0 && !useXmax)
        {
            update = Update(mapping, keys, predicate, codecs, nullsNotDistinct, updates, returning);
        }
        else if (updates.Count > 0)
        {
            // xmax = 0 only holds for a tuple this statement inserted.
            upsert = $"INSERT INTO {mapping.QualifiedName} AS {TargetAlias} ({columnList}) VALUES ({values}) ON CONFLICT {arbiter} " +
                $"{UpsertAction(codecs, updates)} RETURNING {returning}, ({TargetAlias}.xmax = 0) AS {InsertedColumn}";
        }

        return new WritePlan
        {
            Mapping = mapping,
            Codecs = codecs,
            InsertOrGetSql = $"{insert} ON CONFLICT {arbiter} DO NOTHING RETURNING {returning}",
            ReselectSql = reselect,
            ReselectParameters = reselectParameters,
            UpsertSql = upsert,
            UpdateSql = update,
            UpdateColumns = updates,
            UpsertDenied = upsertDenied,
            Facts = facts,
            InsertSql = $"{insert} RETURNING {returning}",
            NonNullableKeyColumns = nullsNotDistinct ? [] : [.. keyColumns],
            ArbiterIndexes = arbiterIndexes,
            Keys = keys,
            Predicate = predicate,
            NullsNotDistinct = nullsNotDistinct,
        };
    }

    // The DO UPDATE of an upsert whose target is aliased TargetAlias. IS DISTINCT FROM skips no-op updates (no dead tuple, no
    // trigger, reported Unchanged).
    public static string UpsertAction(ColumnCodecs codecs, IReadOnlyList<ColumnMapping> updates)
    {
        var set = string.Join(", ", updates.Select(c => $"{c.QuotedName} = EXCLUDED.{c.QuotedName}"));
        string Comparable(ColumnMapping c, string qualifier)
            => codecs.Of(c).ComparesAsText ? $"{qualifier}.{c.QuotedName}::text" : $"{qualifier}.{c.QuotedName}";
        var current = string.Join(", ", updates.Select(c => Comparable(c, TargetAlias)));
        var incoming = string.Join(", ", updates.Select(c => Comparable(c, "EXCLUDED")));
        return $"DO UPDATE SET {set} WHERE ROW({current}) IS DISTINCT FROM ROW({incoming})";
    }

    public static string ArbiterClause(ConflictSpec spec)
    {
        if (spec.Constraint is not null)
        {
            return "ON CONSTRAINT " + Sql.Quote(spec.Constraint);
        }

        var elements = spec.Columns.Select(c => c.QuotedName).Concat(spec.Expressions);
        var clause = "(" + string.Join(", ", elements) + ")";
        return spec.Predicate is null ? clause : $"{clause} WHERE {spec.Predicate}";
    }

    private static (string Sql, int[] Parameters) Reselect(
        TableMapping mapping,
        IReadOnlyList<KeyElement> keys,
        string? predicate,
        ColumnCodecs codecs,
        bool nullsNotDistinct,
        string returning)
    {
        // The re-select binds only the parameters its key reads, numbered in first-use order.
        var insertColumns = mapping.InsertColumns;
        var parameters = new List<int>();
        int ParameterFor(ColumnMapping column)
        {
            var index = IndexOf(insertColumns, column);
            var position = parameters.IndexOf(index);
            if (position < 0)
            {
                parameters.Add(index);
                position = parameters.Count - 1;
            }

            return position + 1;
        }

        var where = KeyConditions(mapping, keys, predicate, codecs, nullsNotDistinct, ParameterFor);
        return ($"SELECT {returning} FROM {mapping.QualifiedName} WHERE {where}", [.. parameters]);
    }

    // UPDATE by the arbiter key, only when the stored row differs (like the upsert's IS DISTINCT FROM guard), binding
    // $1..$n exactly as the insert does.
    private static string Update(
        TableMapping mapping,
        IReadOnlyList<KeyElement> keys,
        string? predicate,
        ColumnCodecs codecs,
        bool nullsNotDistinct,
        IReadOnlyList<ColumnMapping> updates,
        string returning)
    {
        var insertColumns = mapping.InsertColumns;
        int ParameterFor(ColumnMapping column) => IndexOf(insertColumns, column) + 1;
        string Comparable(ColumnMapping c, string value) => codecs.Of(c).ComparesAsText ? value + "::text" : value;
        var set = string.Join(", ", updates.Select(c => $"{c.QuotedName} = {codecs.Parameter(ParameterFor(c), c)}"));
        var current = string.Join(", ", updates.Select(c => Comparable(c, $"{TargetAlias}.{c.QuotedName}")));
        var incoming = string.Join(", ", updates.Select(c => Comparable(c, codecs.Parameter(ParameterFor(c), c))));
        var where = KeyConditions(mapping, keys, predicate, codecs, nullsNotDistinct, ParameterFor);
        return $"UPDATE {mapping.QualifiedName} AS {TargetAlias} SET {set} WHERE {where} " +
            $"AND ROW({current}) IS DISTINCT FROM ROW({incoming}) RETURNING {returning}";
    }

    private static string KeyConditions(
        TableMapping mapping,
        IReadOnlyList<KeyElement> keys,
        string? predicate,
        ColumnCodecs codecs,
        bool nullsNotDistinct,
        Func<ColumnMapping, int> parameterFor)
    {
        var insertColumns = mapping.InsertColumns;
        var conditions = new List<string>();
        string? inputRow = null;
        foreach (var key in keys)
        {
            if (key.Column is { } column)
            {
                var p = codecs.Parameter(parameterFor(column), column);
                conditions.Add(nullsNotDistinct
                    ? $"({column.QuotedName} = {p} OR ({column.QuotedName} IS NULL AND {p} IS NULL))"
                    : $"{column.QuotedName} = {p}");
                continue;
            }

            // An expression key (lower(email)) is evaluated over the input row in a sub-select whose columns carry
            // the table's column names, so the expression text is used exactly as the index defines it.
            if (inputRow is null)
            {
                var sb = new StringBuilder("(SELECT ");
                sb.AppendJoin(", ", insertColumns.Select(c => $"{codecs.Parameter(parameterFor(c), c)} AS {c.QuotedName}"));
                sb.Append(") AS iw_input");
                inputRow = sb.ToString();
            }

            conditions.Add(nullsNotDistinct
                ? $"({key.Expression}) IS NOT DISTINCT FROM (SELECT {key.Expression} FROM {inputRow})"
                : $"({key.Expression}) = (SELECT {key.Expression} FROM {inputRow})");
        }

        if (predicate is not null)
        {
            conditions.Add("(" + predicate + ")");
        }

        return string.Join(" AND ", conditions);
    }

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

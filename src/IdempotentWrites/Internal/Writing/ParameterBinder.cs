// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// Parameter binding, the one place a row's values become statement parameters: read from the row's properties in
// InsertColumns order and bound typed like the column (RowAccess over each column's codec, see ColumnCodec). ReadValues
// gives the same values boxed, for what needs them as a list (error translation, coalesced batches, EXPLAIN checks).
internal static class ParameterBinder
{
    public static object?[] ReadValues(WritePlan plan, object row, bool checkKeys)
    {
        if (checkKeys)
        {
            CheckKeys(plan, row);
        }

        var columns = plan.Mapping.InsertColumns;
        var values = new object?[columns.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = columns[i].GetValue(row);
        }

        return values;
    }

    // Refuses a row whose conflict key holds a null that ON CONFLICT would never match.
    public static void CheckKeys(WritePlan plan, object row)
    {
        var keys = plan.Access.NonNullableKeys;
        for (var k = 0; k < keys.Length; k++)
        {
            if (keys[k].IsNull(row))
            {
                var key = keys[k].Codec.Column;
                throw new ArgumentException(
                    $"{plan.Mapping.RowType.Name}.{key.Property.Name} is part of the conflict key of " +
                    $"{plan.Mapping.DisplayName} and is null. The arbiter treats NULLs as distinct, so ON " +
                    "CONFLICT would never fire and every call would insert a new row.",
                    "row");
            }
        }
    }

    // The parameters of one statement, read from row: every insert column in order, or (subset) those indexes of them.
    // Each statement reads the properties again (no boxed snapshot per call): a mapped property must return the same value
    // on every read while the call runs, as an auto-property does.
    public static void AddParameters(WritePlan plan, NpgsqlParameterCollection parameters, object row, int[]? subset)
    {
        var members = plan.Access.Insert;
        if (subset is null)
        {
            for (var i = 0; i < members.Length; i++)
            {
                parameters.Add(members[i].Parameter(row));
            }

            return;
        }

        foreach (var index in subset)
        {
            parameters.Add(members[index].Parameter(row));
        }
    }

    // Sets row's values on parameters that AddParameters made for an earlier row (a kept command, see StatementCommands).
    // False when a value needs a parameter of another shape than the one there (a null, a value the codec converts).
    public static bool TryRebind(WritePlan plan, NpgsqlParameterCollection parameters, object row, int[]? subset)
    {
        var members = plan.Access.Insert;
        var count = subset?.Length ?? members.Length;
        if (parameters.Count != count)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (!members[subset is null ? i : subset[i]].TryRebind(parameters[i], row))
            {
                return false;
            }
        }

        return true;
    }

    // Clears the values of a kept command's parameters, so that it holds no row's data between calls.
    public static void ClearValues(WritePlan plan, NpgsqlParameterCollection parameters, int[]? subset)
    {
        var members = plan.Access.Insert;
        for (var i = 0; i < parameters.Count; i++)
        {
            members[subset is null ? i : subset[i]].Clear(parameters[i]);
        }
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// Parameter binding, the one place a row's values become statement parameters: read from the row's properties in
// InsertColumns order, then bound through each column's codec (typed like the column, see ColumnCodec).
internal static class ParameterBinder
{
    public static object?[] ReadValues(WritePlan plan, object row, bool checkKeys)
    {
        var columns = plan.Mapping.InsertColumns;
        var values = new object?[columns.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = columns[i].GetValue(row);
        }

        if (checkKeys)
        {
            var keys = plan.NonNullableKeyColumns;
            for (var k = 0; k < keys.Count; k++)
            {
                var key = keys[k];
                if (key.GetValue(row) is null)
                {
                    throw new ArgumentException(
                        $"{plan.Mapping.RowType.Name}.{key.Property.Name} is part of the conflict key of " +
                        $"{plan.Mapping.DisplayName} and is null. The arbiter treats NULLs as distinct, so ON " +
                        "CONFLICT would never fire and every call would insert a new row.",
                        "row");
                }
            }
        }

        return values;
    }

    public static void AddParameters(WritePlan plan, NpgsqlParameterCollection parameters, object?[] values, int[]? subset)
    {
        var codecs = plan.Codecs.Insert;
        if (subset is null)
        {
            for (var i = 0; i < values.Length; i++)
            {
                parameters.Add(codecs[i].Parameter(values[i]));
            }

            return;
        }

        foreach (var index in subset)
        {
            parameters.Add(codecs[index].Parameter(values[index]));
        }
    }
}

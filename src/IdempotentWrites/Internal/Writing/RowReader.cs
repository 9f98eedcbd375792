// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.Json;
using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// Row access, the one place a returned row becomes a T: each column through its codec, then the mapping's factory.
internal static class RowReader
{
    // Reads the row as stored. A value that cannot become its property (a stored enum label added after startup,
    // JSON that does not fit the type) must not look like a failed write: the row is there, so say so.
    // Not generic: a generic method called from the writer's shared generic code costs a dictionary lookup and an
    // instantiating stub per call; the caller casts.
    public static object Read(WritePlan plan, NpgsqlDataReader reader, WriteOutcome outcome, int offset = 0)
    {
        var codecs = plan.Codecs.All;
        var access = plan.Access;
        var column = 0;
        try
        {
            if (access.CreatesRows)
            {
                if (access.Compiled is { } compiled)
                {
                    try
                    {
                        return compiled(reader, offset);
                    }
                    catch (Exception ex) when (IsUnreadable(ex) || IsRefused(ex))
                    {
                        // Read once more member by member below (a buffered row can be), which names the column. A delegate
                        // the runtime refuses to run (access to the row type) is dropped: the row is committed, its result
                        // must not be lost to an optimisation.
                        if (IsRefused(ex))
                        {
                            access.Discard();
                        }
                    }
                }

                // A parameterless constructor and a setter per column: each value read typed into its property.
                var row = access.CreateRow();
                var members = access.All;
                for (; column < members.Length; column++)
                {
                    members[column].Read(reader, offset + column, row);
                }

                access.Compile();
                return row;
            }

            var values = new object?[codecs.Count];
            for (; column < values.Length; column++)
            {
                values[column] = codecs[column].Read(reader, offset + column);
            }

            column = -1;
            return plan.Mapping.Materialize(values);
        }
        catch (Exception ex) when (IsUnreadable(ex))
        {
            throw Unreadable(plan, reader, offset, outcome, column < 0 ? null : codecs[column].Column.ColumnName, ex);
        }
    }

    private static bool IsRefused(Exception ex)
        => ex is MemberAccessException or TypeLoadException or System.Security.VerificationException or InvalidProgramException;

    private static bool IsUnreadable(Exception ex)
        => ex is InvalidCastException or FormatException or JsonException or ArgumentException or OverflowException or NotSupportedException;

    private static UnreadableRowException Unreadable(
        WritePlan plan,
        NpgsqlDataReader reader,
        int offset,
        WriteOutcome outcome,
        string? column,
        Exception error)
    {
        var stored = new Dictionary<string, object?>(StringComparer.Ordinal);
        var columns = plan.Mapping.Columns;
        for (var i = 0; i < columns.Count; i++)
        {
            try
            {
                stored[columns[i].ColumnName] = reader.IsDBNull(offset + i) ? null : reader.GetValue(offset + i);
            }
            catch (Exception ex) when (ex is InvalidCastException or NotSupportedException or ArgumentException)
            {
                // Left out: Npgsql cannot read this column at all.
            }
        }

        var keyColumns = plan.Keys.Select(k => k.Column?.ColumnName).ToList();
        Dictionary<string, object?>? key = keyColumns.Count > 0 && keyColumns.All(c => c is not null && stored.ContainsKey(c))
            ? keyColumns.ToDictionary(c => c!, c => stored[c!], StringComparer.Ordinal)
            : null;
        return new UnreadableRowException(plan.Mapping.DisplayName, outcome, column, key, stored, error);
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Postgres;

// A statement as sent (text with $n parameters) and as shown to people (the same statement with the values written as
// literals), so a dry run prints exactly what a real run executes.
internal sealed class SqlStatement(string text, string display, params (object Value, NpgsqlDbType Type)[] parameters)
{
    public string Text { get; } = text;

    public string Display { get; } = display;

    public NpgsqlCommand CreateCommand(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        var command = new NpgsqlCommand(Text, connection, transaction);
        foreach (var (value, type) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        }

        return command;
    }

    public NpgsqlBatchCommand CreateBatchCommand()
    {
        var command = new NpgsqlBatchCommand(Text);
        foreach (var (value, type) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        }

        return command;
    }

    public override string ToString() => Display;
}

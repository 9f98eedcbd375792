// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.UnitTests;

// Builds PostgresExceptions as the server reports them, with the error fields the translator reads.
internal static class PostgresErrors
{
    public const string Detail = "Key (email)=(alice@example.com) already exists.";

    public static PostgresException Create(
        string sqlState,
        string? schemaName = "public",
        string? tableName = "users",
        string? columnName = null,
        string? constraintName = null,
        string? routine = null)
        => new(
            messageText: "server message",
            severity: "ERROR",
            invariantSeverity: "ERROR",
            sqlState: sqlState,
            detail: Detail,
            hint: null,
            position: 0,
            internalPosition: 0,
            internalQuery: null,
            where: null,
            schemaName: schemaName,
            tableName: tableName,
            columnName: columnName,
            dataTypeName: null,
            constraintName: constraintName,
            file: null,
            line: null,
            routine: routine);
}

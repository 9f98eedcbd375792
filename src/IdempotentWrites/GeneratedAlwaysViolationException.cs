// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A write gave an explicit value to a <c>GENERATED ALWAYS</c> column (SQLSTATE 428C9): an identity column
/// <c>GENERATED ALWAYS AS IDENTITY</c> or a generated column <c>GENERATED ALWAYS AS (…)</c>.
/// Mark the column with <c>Generated(...)</c> in the table mapping.
/// <para/>
/// The server's error names neither the table nor the column outside its localized text, so for the SDK's own writes
/// both come from the table mapping and the catalog: the first column the write gave a value that the catalog now
/// declares <c>GENERATED ALWAYS</c>.
/// </summary>
public sealed class GeneratedAlwaysViolationException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="GeneratedAlwaysViolationException"/> class.
    /// </summary>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="columnName">The column, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public GeneratedAlwaysViolationException(string? tableName, string? columnName, Exception? innerException)
        : base(BuildMessage(tableName, columnName), "428C9", innerException)
    {
        TableName = tableName;
        ColumnName = columnName;
    }

    /// <summary>
    /// Gets the table, when known.
    /// </summary>
    public string? TableName { get; }

    /// <summary>
    /// Gets the column, when known.
    /// </summary>
    public string? ColumnName { get; }

    private static string BuildMessage(string? tableName, string? columnName) => columnName is null
        ? $"A write gave an explicit value to a GENERATED ALWAYS column of {tableName ?? "the table"}; mark that " +
            "column Generated(...) in the table mapping " +
            "(the columns the catalog declares GENERATED ALWAYS, as identity or generated columns, are the candidates)."
        : $"Column \"{columnName}\" of {tableName ?? "the table"} is GENERATED ALWAYS and cannot be given a value; " +
            "mark it Generated(...) in the table mapping.";
}

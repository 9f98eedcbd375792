// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A write gave an explicit value to a <c>GENERATED ALWAYS</c> column (SQLSTATE 428C9).
/// Mark the column with <c>Generated(...)</c> in the table mapping.
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
        : base(
            $"Column \"{columnName ?? "(unknown)"}\" of {tableName ?? "the table"} is GENERATED ALWAYS and cannot be given a value; mark it Generated(...) in the table mapping.",
            "428C9",
            innerException)
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
}

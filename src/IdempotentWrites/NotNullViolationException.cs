// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A write put a null into a <c>NOT NULL</c> column (SQLSTATE 23502).
/// </summary>
public sealed class NotNullViolationException : ConstraintViolationException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="NotNullViolationException"/> class.
    /// </summary>
    /// <param name="schemaName">The schema of the table, when known.</param>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="columnName">The column, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public NotNullViolationException(string? schemaName, string? tableName, string? columnName, Exception? innerException)
        : base(
            $"Column \"{columnName ?? "(unknown)"}\" of table {tableName ?? "(unknown)"} is NOT NULL and the write gave it no value.",
            "23502",
            schemaName,
            tableName,
            constraintName: null,
            innerException)
    {
        ColumnName = columnName;
    }

    /// <summary>
    /// Gets the column that refused the null, or <see langword="null"/> when the server did not report it.
    /// </summary>
    public string? ColumnName { get; }
}

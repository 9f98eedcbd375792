// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A write broke a foreign-key constraint (SQLSTATE 23503).
/// </summary>
public sealed class ForeignKeyViolationException : ConstraintViolationException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="ForeignKeyViolationException"/> class.
    /// </summary>
    /// <param name="schemaName">The schema of the table, when known.</param>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="constraintName">The violated constraint, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ForeignKeyViolationException(string? schemaName, string? tableName, string? constraintName, Exception? innerException)
        : base(
            $"Constraint \"{constraintName ?? "(unknown)"}\" on table {tableName ?? "(unknown)"} was violated. The " +
            "referenced row does not exist, or the row is still referenced.",
            "23503",
            schemaName,
            tableName,
            constraintName,
            innerException)
    {
    }
}

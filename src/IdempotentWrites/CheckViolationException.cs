// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A write broke a check constraint (SQLSTATE 23514).
/// </summary>
public sealed class CheckViolationException : ConstraintViolationException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="CheckViolationException"/> class.
    /// </summary>
    /// <param name="schemaName">The schema of the table, when known.</param>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="constraintName">The violated constraint, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CheckViolationException(string? schemaName, string? tableName, string? constraintName, Exception? innerException)
        : base(
            $"Constraint \"{constraintName ?? "(unknown)"}\" on table {tableName ?? "(unknown)"} was violated. The " +
            "row does not satisfy the constraint's condition.",
            "23514",
            schemaName,
            tableName,
            constraintName,
            innerException)
    {
    }
}

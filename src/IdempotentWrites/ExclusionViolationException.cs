// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A write broke an exclusion constraint (SQLSTATE 23P01).
/// </summary>
public sealed class ExclusionViolationException : ConstraintViolationException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="ExclusionViolationException"/> class.
    /// </summary>
    /// <param name="schemaName">The schema of the table, when known.</param>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="constraintName">The violated constraint, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ExclusionViolationException(string? schemaName, string? tableName, string? constraintName, Exception? innerException)
        : base(
            $"Constraint \"{constraintName ?? "(unknown)"}\" on table {tableName ?? "(unknown)"} was violated. The " +
            "row overlaps an existing row under the constraint's operators.",
            "23P01",
            schemaName,
            tableName,
            constraintName,
            innerException)
    {
    }
}

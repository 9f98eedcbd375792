// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// An insert reported a conflict, but the conflicting row could not be read back after the configured number of
/// attempts: it kept being deleted in between, or the current role cannot see it (row-level security, column rights).
/// </summary>
public sealed class ConflictingRowNotFoundException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="ConflictingRowNotFoundException"/> class.
    /// </summary>
    /// <param name="tableName">The table.</param>
    /// <param name="attempts">The number of insert/re-select attempts made.</param>
    public ConflictingRowNotFoundException(string tableName, int attempts)
        : base(
            $"An insert into {tableName} conflicted, but the conflicting row was not visible to the re-select after {attempts} attempt(s). It is being deleted concurrently, or row-level security hides it from this role.",
            sqlState: null,
            innerException: null)
    {
        TableName = tableName;
        Attempts = attempts;
    }

    /// <summary>
    /// Gets the table.
    /// </summary>
    public string TableName { get; }

    /// <summary>
    /// Gets the number of attempts made.
    /// </summary>
    public int Attempts { get; }

    /// <summary>
    /// Gets a value indicating whether retrying may succeed; always <see langword="true"/> (the churn may stop).
    /// </summary>
    public override bool IsTransient => true;
}

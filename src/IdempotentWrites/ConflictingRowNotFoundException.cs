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
    /// <param name="likelyCauses">What can make the conflicting row invisible to the re-select on this table, most likely first.</param>
    public ConflictingRowNotFoundException(string tableName, int attempts, string likelyCauses)
        : base(
            $"An insert into {tableName} conflicted, but the re-select by the same key found no row, {attempts} " +
            $"time(s) in a row. This is not a race that a retry cures. Likely causes: {likelyCauses}.",
            sqlState: null,
            innerException: null)
    {
        TableName = tableName;
        Attempts = attempts;
        LikelyCauses = likelyCauses;
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
    /// Gets what can make the conflicting row invisible to the re-select on this table (a <c>BEFORE INSERT</c> trigger that
    /// changes the key, row-level security, a concurrent delete), most likely first.
    /// </summary>
    public string LikelyCauses { get; }

    /// <summary>
    /// Gets a value indicating whether retrying may succeed; always <see langword="false"/>: the writer already retried the
    /// insert once (a concurrently deleted row is gone by then), so what remains is deterministic and the resilience
    /// pipeline does not retry it.
    /// </summary>
    public override bool IsTransient => false;
}

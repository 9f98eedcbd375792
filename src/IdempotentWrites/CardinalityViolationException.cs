// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A cardinality violation (SQLSTATE 21000): one statement would have changed the same row twice (an upsert whose input
/// holds the same key twice), or a subquery used as a value returned more than one row (typically in a trigger).
/// <see cref="Cause"/> tells which. This is not a duplicate-key error.
/// <para/>
/// The cause is decided from the operation and the error's non-localized fields, never from its message text.
/// </summary>
public sealed class CardinalityViolationException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="CardinalityViolationException"/> class whose cause is unknown.
    /// </summary>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CardinalityViolationException(string? tableName, Exception? innerException)
        : this(tableName, CardinalityViolationCause.Unknown, innerException)
    {
    }

    /// <summary>
    /// Initializes a new instance of the <see cref="CardinalityViolationException"/> class.
    /// </summary>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="cause">What raised the violation.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CardinalityViolationException(string? tableName, CardinalityViolationCause cause, Exception? innerException)
        : base(BuildMessage(tableName, cause), "21000", innerException)
    {
        TableName = tableName;
        Cause = cause;
    }

    /// <summary>
    /// Gets the table, when known.
    /// </summary>
    public string? TableName { get; }

    /// <summary>
    /// Gets what raised the violation: a statement that would have changed one row twice, or a subquery that returned
    /// more than one row; <see cref="CardinalityViolationCause.Unknown"/> when it could not be told.
    /// </summary>
    public CardinalityViolationCause Cause { get; }

    private static string BuildMessage(string? tableName, CardinalityViolationCause cause)
    {
        var table = tableName ?? "the table";
        return cause switch
        {
            CardinalityViolationCause.RowAffectedTwice =>
                $"A single statement tried to change the same row twice while writing to {table}: an INSERT … ON CONFLICT DO UPDATE or MERGE " +
                "whose source rows hold the same conflict key more than once. De-duplicate those rows by the conflict key; when the SDK wrote " +
                "one row, the statement ran in a trigger or function on the table, so fix it there.",
            CardinalityViolationCause.SubqueryReturnedMoreThanOneRow =>
                $"A subquery used as a value returned more than one row while writing to {table}, in a trigger, rule, column default or " +
                "function the write runs (the SDK's own SQL has none). This is not a duplicate key and not a fault of the input: make that " +
                "subquery return at most one row (a tighter WHERE, LIMIT 1 or an aggregate).",
            _ =>
                $"A statement writing to {table} hit a cardinality violation: either it tried to change the same row twice (its rows hold the " +
                "same conflict key more than once: de-duplicate them) or a subquery used as a value, for example in a trigger, returned more " +
                "than one row (make it return at most one). The inner PostgresException names which.",
        };
    }
}

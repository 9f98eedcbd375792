// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// What raised a cardinality violation (SQLSTATE 21000). PostgreSQL uses the one SQLSTATE for two unrelated faults,
/// which need different fixes.
/// </summary>
public enum CardinalityViolationCause
{
    /// <summary>
    /// The cause could not be told: the statement wrote several rows and the server did not say which of its routines
    /// raised the error. The inner <c>PostgresException</c>'s message names it.
    /// </summary>
    Unknown = 0,

    /// <summary>
    /// An <c>INSERT … ON CONFLICT DO UPDATE</c> or <c>MERGE</c> would have changed the same row twice, because its
    /// source rows repeat a conflict key. De-duplicate those rows by the key. When the SDK's own statement wrote a single
    /// row, the repeating statement ran in a trigger or function on the table: fix it there.
    /// </summary>
    RowAffectedTwice = 1,

    /// <summary>
    /// A subquery used as a value (<c>x := (SELECT …)</c>, <c>(SELECT …)</c> in an expression) returned more than one
    /// row — in a trigger, a rule, a column default or a function the statement calls, never in the SDK's own SQL.
    /// Make the subquery return at most one row (a tighter <c>WHERE</c>, <c>LIMIT 1</c> or an aggregate).
    /// </summary>
    SubqueryReturnedMoreThanOneRow = 2,
}

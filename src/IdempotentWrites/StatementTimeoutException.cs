// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The server cancelled the statement because it ran longer than <c>statement_timeout</c> (SQLSTATE 57014).
/// Not transient under the SDK's classification: a statement that timed out once usually times out again.
/// (A cancellation requested through a <see cref="CancellationToken"/> surfaces as an <see cref="OperationCanceledException"/> instead.)
/// </summary>
public sealed class StatementTimeoutException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="StatementTimeoutException"/> class.
    /// </summary>
    /// <param name="tableName">The table the statement wrote to, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public StatementTimeoutException(string? tableName, Exception? innerException)
        : base(
            $"A statement on {tableName ?? "the table"} ran longer than statement_timeout and was cancelled by the " +
            "server; it was waiting on a lock or too slow.",
            "57014",
            innerException)
    {
        TableName = tableName;
    }

    /// <summary>
    /// Gets the table, when known.
    /// </summary>
    public string? TableName { get; }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A bulk operation stopped on an error in one chunk, or on an error reading its input. The chunks before it are
/// committed (see <see cref="Report"/>); nothing of the failed chunk was written. The cause (for example a
/// <see cref="UniqueViolationException"/> on a unique constraint other than the conflict target, or a <c>PostgresException</c>)
/// is the <see cref="Exception.InnerException"/>. Fix the cause and run the same import again: rows already written are skipped.
/// </summary>
public sealed class BulkWriteException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="BulkWriteException"/> class.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="report">The totals of the chunks committed before the failure.</param>
    /// <param name="firstFailedRow">The 0-based input position of the failed chunk's first row.</param>
    /// <param name="sqlState">The PostgreSQL SQLSTATE, or <see langword="null"/>.</param>
    /// <param name="innerException">The cause.</param>
    public BulkWriteException(string message, BulkWriteReport report, long firstFailedRow, string? sqlState, Exception? innerException)
        : base(message, sqlState, innerException)
    {
        ArgumentNullException.ThrowIfNull(report);
        Report = report;
        FirstFailedRow = firstFailedRow;
    }

    /// <summary>Gets the totals of the chunks committed before the failure.</summary>
    public BulkWriteReport Report { get; }

    /// <summary>Gets the 0-based input position of the failed chunk's first row: every row before it is processed.</summary>
    public long FirstFailedRow { get; }

    /// <inheritdoc/>
    public override bool IsTransient => InnerException is IdempotentWritesException { IsTransient: true };
}

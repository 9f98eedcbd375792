// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// PostgreSQL refused a field of one input row of a <see cref="TextBulkWriter"/> operation: text that its column's type
/// cannot hold (<c>invalid input syntax for type integer</c>, a value out of range or too long for the column, ...). It is the
/// <see cref="Exception.InnerException"/> of the <see cref="BulkWriteException"/>; nothing of the row's chunk was written.
/// <para/>
/// The server's message (which quotes the refused text) is in the inner <c>PostgresException</c>'s <c>MessageText</c>; this
/// message names the row and column but never the value, which may be personal data. The row is found from the error's
/// CONTEXT line, which the server writes in English unless <c>lc_messages</c> says otherwise; when it cannot be read, the
/// <see cref="BulkWriteException"/> carries the <c>PostgresException</c> itself.
/// </summary>
public sealed class BulkValueException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="BulkValueException"/> class.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="position">The 0-based input position of the row.</param>
    /// <param name="row">The input row, as given.</param>
    /// <param name="columnName">The column whose field was refused, when the server named it.</param>
    /// <param name="sqlState">The PostgreSQL SQLSTATE, or <see langword="null"/>.</param>
    /// <param name="innerException">The cause, usually a <c>PostgresException</c>.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> is <see langword="null"/>.</exception>
    public BulkValueException(
        string message,
        long position,
        IReadOnlyList<string?> row,
        string? columnName,
        string? sqlState,
        Exception? innerException)
        : base(message, sqlState, innerException)
    {
        ArgumentNullException.ThrowIfNull(row);
        Position = position;
        Row = row;
        ColumnName = columnName;
    }

    /// <summary>Gets the 0-based input position of the row (as in <see cref="BulkWriteException.FirstFailedRow"/>).</summary>
    public long Position { get; }

    /// <summary>
    /// Gets the input row, the same instance the operation read (so a row type that carries more, such as a file line
    /// number, can be cast back). Its fields may be personal data: the SDK never logs them.
    /// </summary>
    public IReadOnlyList<string?> Row { get; }

    /// <summary>Gets the column whose field was refused, or <see langword="null"/> when the server did not name one.</summary>
    public string? ColumnName { get; }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// One statement would have affected the same row twice (SQLSTATE 21000), for example an upsert whose input holds
/// the same key twice. This is not a duplicate-key error: de-duplicate the input.
/// </summary>
public sealed class CardinalityViolationException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="CardinalityViolationException"/> class.
    /// </summary>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CardinalityViolationException(string? tableName, Exception? innerException)
        : base(
            $"A single statement tried to affect the same row of {tableName ?? "the table"} twice; the input holds the same conflict key more than once.",
            "21000",
            innerException)
    {
        TableName = tableName;
    }

    /// <summary>
    /// Gets the table, when known.
    /// </summary>
    public string? TableName { get; }
}

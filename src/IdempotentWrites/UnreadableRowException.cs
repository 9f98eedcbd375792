// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The write succeeded (or found the stored row), but the row read back could not be turned into the mapped type, for example
/// an enum label or a JSON document that the property's type cannot hold.
/// <para/>
/// The row is in the table: do not retry the write to learn its values. <see cref="Key"/> carries the conflict key it was
/// written or found by, and <see cref="StoredValues"/> the columns as PostgreSQL returned them, where they could be read.
/// </summary>
public sealed class UnreadableRowException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="UnreadableRowException"/> class.
    /// </summary>
    /// <param name="tableName">The table.</param>
    /// <param name="outcome">What the write did before the row was read back.</param>
    /// <param name="columnName">The column whose value could not be converted, when known.</param>
    /// <param name="key">The conflict key columns and their stored values, when known.</param>
    /// <param name="storedValues">The stored row's columns as read without conversion (columns that could not be read are left out).</param>
    /// <param name="innerException">The conversion error.</param>
    public UnreadableRowException(
        string tableName,
        WriteOutcome outcome,
        string? columnName,
        IReadOnlyDictionary<string, object?>? key,
        IReadOnlyDictionary<string, object?> storedValues,
        Exception? innerException)
        : base(
            $"The row was written to {tableName} or found there (outcome {outcome}), but " +
            $"{(columnName is null ? "it" : $"column \"{columnName}\"")} could not be read back into the mapped " +
            $"type: {innerException?.Message} The row is stored; do not retry the write to learn it. Fix the " +
            "mapping (see StoredValues for the values as stored).",
            sqlState: null,
            innerException)
    {
        TableName = tableName;
        Outcome = outcome;
        ColumnName = columnName;
        Key = key;
        StoredValues = storedValues;
    }

    /// <summary>
    /// Gets the table.
    /// </summary>
    public string TableName { get; }

    /// <summary>
    /// Gets what the write did before the row was read back (<see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Existing"/>, ...).
    /// </summary>
    public WriteOutcome Outcome { get; }

    /// <summary>
    /// Gets the column whose value could not be converted, when known.
    /// </summary>
    public string? ColumnName { get; }

    /// <summary>
    /// Gets the conflict key columns and their stored values, or <see langword="null"/> when the key is an expression or unreadable.
    /// These may be personal data: they are never logged by the SDK.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Key { get; }

    /// <summary>
    /// Gets the stored row's columns as Npgsql read them without conversion (for example a generated id); a column that could
    /// not be read at all is left out. These may be personal data: they are never logged by the SDK.
    /// </summary>
    public IReadOnlyDictionary<string, object?> StoredValues { get; }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// Which of the four causes of a duplicate-key error applies, from the catalog, the sequences and the data.
/// </summary>
public sealed class DuplicateKeyDiagnosis
{
    internal DuplicateKeyDiagnosis(
        DuplicateKeyCause cause,
        string schema,
        string table,
        string constraint,
        bool isPrimaryKey,
        IReadOnlyList<string> keyColumns,
        SequenceFinding? sequence,
        IReadOnlyDictionary<string, string?>? keyValues,
        bool? existingRowFound,
        string explanation)
    {
        Cause = cause;
        Schema = schema;
        Table = table;
        Constraint = constraint;
        IsPrimaryKey = isPrimaryKey;
        KeyColumns = keyColumns;
        Sequence = sequence;
        KeyValues = keyValues;
        ExistingRowFound = existingRowFound;
        Explanation = explanation;
    }

    /// <summary>
    /// Gets the cause that applies.
    /// </summary>
    public DuplicateKeyCause Cause { get; }

    /// <summary>
    /// Gets the schema of the table the constraint belongs to.
    /// </summary>
    public string Schema { get; }

    /// <summary>
    /// Gets the table the constraint (or unique index) belongs to.
    /// </summary>
    public string Table { get; }

    /// <summary>
    /// Gets the name of the unique constraint or unique index.
    /// </summary>
    public string Constraint { get; }

    /// <summary>
    /// Gets a value indicating whether it is the primary key.
    /// </summary>
    public bool IsPrimaryKey { get; }

    /// <summary>
    /// Gets the key's columns (or expressions, for an expression index).
    /// </summary>
    public IReadOnlyList<string> KeyColumns { get; }

    /// <summary>
    /// Gets the sequence that feeds a key column, compared with its data; <see langword="null"/> for a natural key.
    /// </summary>
    public SequenceFinding? Sequence { get; }

    /// <summary>
    /// Gets the conflicting key values found in the error text (its <c>Key (...)=(...)</c> detail), by column,
    /// or <see langword="null"/> when the text holds none. They may be personal data: show them only when asked to.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? KeyValues { get; }

    /// <summary>
    /// Gets whether a row with <see cref="KeyValues"/> exists now, or <see langword="null"/> when that could not be looked up.
    /// </summary>
    public bool? ExistingRowFound { get; }

    /// <summary>
    /// Gets an explanation of the cause and its fix, without key values.
    /// </summary>
    public string Explanation { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Cause}: {Explanation}";
}

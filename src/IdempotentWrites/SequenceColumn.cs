// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Sequences;

namespace IdempotentWrites;

/// <summary>
/// A table column that takes its default values from a sequence.
/// </summary>
public sealed class SequenceColumn
{
    internal SequenceColumn(
        string schema,
        string table,
        string column,
        SequenceColumnKind kind,
        string dataType,
        bool isPartitioned,
        string? notComparedReason)
    {
        Schema = schema;
        Table = table;
        Column = column;
        Kind = kind;
        DataType = dataType;
        IsPartitioned = isPartitioned;
        NotComparedReason = notComparedReason;
    }

    /// <summary>
    /// Gets the schema of the table.
    /// </summary>
    public string Schema { get; }

    /// <summary>
    /// Gets the table name (as stored in the catalog, case-sensitive).
    /// </summary>
    public string Table { get; }

    /// <summary>
    /// Gets the column name (as stored in the catalog, case-sensitive).
    /// </summary>
    public string Column { get; }

    /// <summary>
    /// Gets how the column draws from the sequence.
    /// </summary>
    public SequenceColumnKind Kind { get; }

    /// <summary>
    /// Gets the column's SQL type, for example <c>integer</c> or <c>bigint</c>.
    /// </summary>
    public string DataType { get; }

    /// <summary>
    /// Gets a value indicating whether the table is a partitioned table; it is scanned once, with all its partitions,
    /// and its partitions are not listed separately.
    /// </summary>
    public bool IsPartitioned { get; }

    /// <summary>
    /// Gets why the column's data is not compared with the sequence (for example a default such as
    /// <c>'INV-' || nextval(...)</c> on a text column), or <see langword="null"/> when it is compared.
    /// </summary>
    public string? NotComparedReason { get; }

    /// <summary>
    /// Gets the column as <c>schema.table.column</c>, each part quoted only where SQL needs it.
    /// </summary>
    public string DisplayName => SequenceText.Name(Schema, Table, Column);

    /// <inheritdoc/>
    public override string ToString() => $"{DisplayName} ({SequenceText.Kind(Kind)})";
}

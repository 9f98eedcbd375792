// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The table and columns of a <see cref="TextBulkWriter"/> operation: which column each field of a row goes to, and the
/// conflict key that recognises rows already stored. Names are taken literally (case-sensitive) and quoted; nothing is parsed.
/// </summary>
public sealed class TextBulkTarget
{
    /// <summary>
    /// Initializes a new instance of the <see cref="TextBulkTarget"/> class.
    /// </summary>
    /// <param name="schemaName">The schema; <see langword="null"/> for the table found on the connection's <c>search_path</c>.</param>
    /// <param name="tableName">The table.</param>
    /// <param name="columns">The columns, in the order of each row's fields (like a CSV header); each at most once.</param>
    /// <param name="keyColumns">
    /// The conflict key: some of <paramref name="columns"/>, exactly the columns (in any order) of a unique index or constraint
    /// of the table without a predicate, checked immediately (not <c>DEFERRABLE</c>).
    /// </param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="tableName"/>, <paramref name="columns"/> or
    /// <paramref name="keyColumns"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when a name is empty or blank, or <paramref name="columns"/> or
    /// <paramref name="keyColumns"/> is empty.</exception>
    public TextBulkTarget(string? schemaName, string tableName, IEnumerable<string> columns, IEnumerable<string> keyColumns)
    {
        if (schemaName is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(schemaName);
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(keyColumns);
        SchemaName = schemaName;
        TableName = tableName;
        Columns = Names(columns, nameof(columns));
        KeyColumns = Names(keyColumns, nameof(keyColumns));
    }

    /// <summary>Gets the schema, or <see langword="null"/> for the <c>search_path</c>.</summary>
    public string? SchemaName { get; }

    /// <summary>Gets the table.</summary>
    public string TableName { get; }

    /// <summary>Gets the columns, in the order of each row's fields.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Gets the conflict key columns.</summary>
    public IReadOnlyList<string> KeyColumns { get; }

    /// <inheritdoc/>
    public override string ToString() => (SchemaName is null ? TableName : SchemaName + "." + TableName) + " (" + string.Join(", ", Columns) + ")";

    private static string[] Names(IEnumerable<string> names, string parameter)
    {
        string[] copy = [.. names];
        if (copy.Length == 0)
        {
            throw new ArgumentException("Name at least one column.", parameter);
        }

        foreach (var name in copy)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("A column name is null, empty or blank.", parameter);
            }
        }

        return copy;
    }
}

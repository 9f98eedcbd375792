// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Mapping;

internal sealed class TableMapping(
    Type rowType,
    string? schema,
    string table,
    IReadOnlyList<ColumnMapping> columns,
    ConflictSpec conflict,
    IReadOnlyList<ColumnMapping>? updateColumns,
    Func<object?[], object> factory,
    ConstructorInfo? parameterlessConstructor = null)
{
    public const DynamicallyAccessedMemberTypes RowMembers =
        DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors;

    public Type RowType { get; } = rowType;

    public string? Schema { get; } = schema;

    public string Table { get; } = table;

    public string DisplayName { get; } = Sql.DisplayName(schema, table);

    public string QualifiedName { get; } = Sql.QualifiedName(schema, table);

    // Every mapped column, in property order: the RETURNING / SELECT list and the factory's argument order.
    public IReadOnlyList<ColumnMapping> Columns { get; } = columns;

    public IReadOnlyList<ColumnMapping> InsertColumns { get; } = columns.Where(c => !c.IsGenerated).ToList();

    public ConflictSpec Conflict { get; } = conflict;

    public IReadOnlyList<ColumnMapping>? UpdateColumns { get; } = updateColumns;

    public object Materialize(object?[] values) => factory(values);

    // The public parameterless constructor the factory uses, if any (then every column is set through its setter).
    public ConstructorInfo? ParameterlessConstructor { get; } = parameterlessConstructor;
}

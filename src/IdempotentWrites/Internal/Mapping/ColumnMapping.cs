// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Reflection;
using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Mapping;

internal sealed class ColumnMapping(PropertyInfo property, string columnName, bool isGenerated)
{
    public PropertyInfo Property { get; } = property;

    public string ColumnName { get; } = columnName;

    public string QuotedName { get; } = Sql.Quote(columnName);

    public bool IsGenerated { get; } = isGenerated;

    public object? GetValue(object row) => Property.GetValue(row);
}

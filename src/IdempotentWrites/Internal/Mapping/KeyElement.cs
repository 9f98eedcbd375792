// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Mapping;

// One element of the arbiter's key, as the re-select must match it: a mapped column or an SQL expression over the row's columns.
internal sealed record KeyElement(ColumnMapping? Column, string? Expression)
{
    public static KeyElement ForColumn(ColumnMapping column) => new(column, null);

    public static KeyElement ForExpression(string expression) => new(null, expression);
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Mapping;

// A column's type as the catalog describes it. Name is what parameters are cast to: the declared type without its
// typmod (a domain keeps its name so its CHECKs run; char(8) becomes bpchar so an explicit cast never truncates).
// Base is the type under any domains; for an array, Element is the element's base type.
internal sealed record ColumnType(
    string Name,
    string Display,
    PgType Base,
    PgType? Element,
    IReadOnlyList<string> EnumLabels)
{
    public bool IsArray => Element is not null;
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal;

// A unique index (or the index behind a unique / primary-key constraint) as the catalog describes it.
internal sealed record IndexDefinition(
    string Name,
    string? Schema,
    string? Table,
    bool IsPrimaryKey,
    bool NullsNotDistinct,
    string? Predicate,
    bool IsDeferrable,
    IReadOnlyList<IndexKey> Keys)
{
    public IReadOnlyList<string> Columns => [.. Keys.Where(k => k.Column is not null).Select(k => k.Column!)];

    public IReadOnlyList<string> Expressions => [.. Keys.Where(k => k.Column is null).Select(k => k.Definition)];
}

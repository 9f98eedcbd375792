// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Mapping;

namespace IdempotentWrites.Internal.Catalog;

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
    // The plain key columns, in key order: what arbiter matching, IsGeneratedKey and key values are about.
    public IReadOnlyList<string> Columns => [.. Keys.Where(k => k.Column is not null).Select(k => k.Column!)];

    public IReadOnlyList<string> Expressions => [.. Keys.Where(k => k.Column is null).Select(k => k.Definition)];

    // The columns the expression key elements read (never those only in the predicate or INCLUDE), in order of appearance.
    public IReadOnlyList<string> ExpressionColumns { get; init; } = [];

    // What a violation reports as its columns: the plain key columns, then the other columns the expressions read.
    public IReadOnlyList<string> ReportedColumns => [.. Columns.Concat(ExpressionColumns).Distinct(StringComparer.Ordinal)];
}

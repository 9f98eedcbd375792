// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Mapping;

// The conflict target as the user configured it; resolved against the catalog into a ConflictArbiter.
internal sealed record ConflictSpec(
    IReadOnlyList<ColumnMapping> Columns,
    IReadOnlyList<string> Expressions,
    string? Constraint,
    string? Predicate);

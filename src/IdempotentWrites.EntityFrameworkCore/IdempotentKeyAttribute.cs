// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.EntityFrameworkCore;

/// <summary>
/// Marks the properties that identify a duplicate of an entity: its conflict key for <c>InsertOrGetAsync</c> and
/// <c>UpsertAsync</c> (<see cref="IdempotentWritesDbSetExtensions"/>), as
/// <see cref="IdempotentWritesEntityTypeBuilderExtensions.HasIdempotentKey{TEntity, TKey}"/> names it in the model (which wins
/// when both are used). Several marked properties make a composite key; a unique index or constraint over exactly their
/// columns must exist in the database.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class IdempotentKeyAttribute : Attribute
{
}

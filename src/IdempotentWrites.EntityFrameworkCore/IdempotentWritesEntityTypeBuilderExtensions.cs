// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using IdempotentWrites.EntityFrameworkCore.Internal;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdempotentWrites.EntityFrameworkCore;

/// <summary>
/// Names an entity's idempotent key in the EF model.
/// </summary>
public static class IdempotentWritesEntityTypeBuilderExtensions
{
    /// <summary>
    /// Names the properties that identify a duplicate of this entity: the conflict key of
    /// <c>InsertOrGetAsync</c> and <c>UpsertAsync</c> (<see cref="IdempotentWritesDbSetExtensions"/>). A unique index or
    /// constraint over exactly these columns must exist in the database (declare it with <c>HasIndex(...).IsUnique()</c> or
    /// <c>HasAlternateKey</c> so migrations create it). Without this call the key is the entity's only unique index or
    /// alternate key, else its primary key when the client sets it.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <typeparam name="TKey">The key's type.</typeparam>
    /// <param name="builder">The entity type builder.</param>
    /// <param name="key">The key: one property (<c>e => e.Email</c>) or several (<c>e => new { e.TenantId, e.Email }</c>).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="key"/> does not select properties of the entity.</exception>
    public static EntityTypeBuilder<TEntity> HasIdempotentKey<TEntity, TKey>(
        this EntityTypeBuilder<TEntity> builder,
        Expression<Func<TEntity, TKey>> key)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(key);
        var names = KeySelector.Names(key, nameof(key));
        builder.HasAnnotation(EntityTableMapping.KeyAnnotation, names);
        return builder;
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.EntityFrameworkCore.Internal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdempotentWrites.EntityFrameworkCore;

/// <summary>
/// EF Core additions to <c>services.AddIdempotentWrites()</c>.
/// </summary>
public static class IdempotentWritesBuilderExtensions
{
    /// <summary>
    /// Checks, when the host starts, every entity type of <typeparamref name="TContext"/>'s model that names its idempotent key
    /// (<see cref="IdempotentWritesEntityTypeBuilderExtensions.HasIdempotentKey{TEntity, TKey}"/> or
    /// <see cref="IdempotentKeyAttribute"/>): one that cannot be mapped to one table row fails the start with a
    /// <see cref="TableMappingException"/> naming it and the reason, and each mapping is checked against the database as
    /// <see cref="IdempotentWritesOptions.ValidateMappingsOnStartup"/> checks the writer's own (the table, its columns, the unique
    /// index the key needs; in the background while the database is unreachable). Without this call the same errors surface on
    /// an entity type's first call. Register it after the hosted service that applies the migrations.
    /// </summary>
    /// <typeparam name="TContext">The context type, registered in DI (<c>AddDbContext</c> or <c>AddDbContextPool</c>).</typeparam>
    /// <param name="builder">The builder <c>AddIdempotentWrites</c> returned.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IdempotentWritesBuilder ValidateEntityMappings<TContext>(this IdempotentWritesBuilder builder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHostedService<EntityMappingValidation<TContext>>();
        return builder;
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.EntityFrameworkCore.Internal;
using Microsoft.EntityFrameworkCore;

namespace IdempotentWrites.EntityFrameworkCore;

/// <summary>
/// Adds IdempotentWrites' typed constraint errors to a <see cref="DbContext"/>.
/// </summary>
public static class IdempotentWritesDbContextOptionsBuilderExtensions
{
    /// <summary>
    /// Makes <c>SaveChanges</c> and <c>SaveChangesAsync</c> throw the SDK's typed exceptions in place of a
    /// <see cref="DbUpdateException"/> caused by a constraint: <see cref="UniqueViolationException"/> (constraint, table, the
    /// constraint's columns read from the catalog, the values from the failed entity), <see cref="ForeignKeyViolationException"/>,
    /// <see cref="NotNullViolationException"/>, <see cref="CheckViolationException"/> and
    /// <see cref="ExclusionViolationException"/>, each naming the entity types involved
    /// (<see cref="ConstraintViolationException.EntityTypes"/>) and keeping the <see cref="DbUpdateException"/> as its inner
    /// exception. The ASP.NET Core package's 409 problem details then cover conflicts raised through EF Core. Other failures
    /// are left as they are.
    /// </summary>
    /// <param name="builder">The options builder.</param>
    /// <returns>The builder.</returns>
    public static DbContextOptionsBuilder UseIdempotentWrites(this DbContextOptionsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddInterceptors(ConstraintErrorInterceptor.Instance);
    }

    /// <summary>
    /// Makes <c>SaveChanges</c> throw the SDK's typed exceptions for constraint violations; see
    /// <see cref="UseIdempotentWrites(DbContextOptionsBuilder)"/>.
    /// </summary>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <param name="builder">The options builder.</param>
    /// <returns>The builder.</returns>
    public static DbContextOptionsBuilder<TContext> UseIdempotentWrites<TContext>(this DbContextOptionsBuilder<TContext> builder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddInterceptors(ConstraintErrorInterceptor.Instance);
    }
}

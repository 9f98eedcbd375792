// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using IdempotentWrites.EntityFrameworkCore.Internal;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace IdempotentWrites.EntityFrameworkCore;

/// <summary>
/// Idempotent writes on a <see cref="DbSet{TEntity}"/>: the core writer's SQL, race handling, typed errors and retries, with the
/// mapping read from the context's model.
/// </summary>
/// <remarks>
/// <para>
/// The table, schema and column names, server-generated columns and the conflict key come from the EF model: the key named
/// with <see cref="IdempotentWritesEntityTypeBuilderExtensions.HasIdempotentKey{TEntity, TKey}"/>, else the entity's only
/// unique index or alternate key, else its primary key when the client sets it. A filtered unique index's predicate
/// (<c>HasFilter</c>) is used to infer it. An entity that does not map to one row of one table (owned or complex types,
/// inheritance, table splitting, shadow properties, value converters) is refused on first use with a
/// <see cref="TableMappingException"/> naming it and the reason.
/// </para>
/// <para>
/// Inside <c>Database.CurrentTransaction</c> a call runs on that transaction's connection, under a savepoint, and commits or
/// rolls back with it; nothing is retried there. Without one, a call is its own unit of work on the writer's data source (the
/// application's <see cref="IdempotentWritesDataSource"/> or <see cref="NpgsqlDataSource"/> when registered, else one built
/// from the context's connection string), with the writer's retries and <see cref="IdempotentWritesOptions"/>.
/// </para>
/// <para>
/// Tracking: by default the stored entity is attached as <see cref="EntityState.Unchanged"/>. When the context already tracks
/// an instance with the same primary key, that instance is returned instead, as a tracking query would; an upsert copies the
/// stored values into it when it has no pending changes. Pass <c>track: false</c> to leave the change tracker alone.
/// </para>
/// </remarks>
public static class IdempotentWritesDbSetExtensions
{
    /// <summary>
    /// Inserts <paramref name="entity"/>, or returns the stored row when one with the same key exists (<c>INSERT … ON CONFLICT
    /// DO NOTHING RETURNING</c> and a re-select), and attaches the result to the context.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="set">The set.</param>
    /// <param name="entity">The entity to insert.</param>
    /// <param name="cancellationToken">A token to cancel the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/> or <see cref="WriteOutcome.Existing"/> with the stored entity.</returns>
    /// <exception cref="TableMappingException">Thrown when the entity type cannot be mapped to one table row.</exception>
    /// <exception cref="IdempotentWritesException">Thrown for a database error, typed as the core writer types it.</exception>
    public static Task<WriteResult<TEntity>> InsertOrGetAsync<TEntity>(
        this DbSet<TEntity> set,
        TEntity entity,
        CancellationToken cancellationToken = default)
        where TEntity : class
        => WriteAsync(set, entity, upsert: false, track: true, null, cancellationToken);

    /// <summary>
    /// Inserts <paramref name="entity"/>, or returns the stored row when one with the same key exists.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="set">The set.</param>
    /// <param name="entity">The entity to insert.</param>
    /// <param name="track"><see langword="false"/> to leave the change tracker untouched.</param>
    /// <param name="cancellationToken">A token to cancel the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/> or <see cref="WriteOutcome.Existing"/> with the stored entity.</returns>
    /// <exception cref="TableMappingException">Thrown when the entity type cannot be mapped to one table row.</exception>
    /// <exception cref="IdempotentWritesException">Thrown for a database error, typed as the core writer types it.</exception>
    public static Task<WriteResult<TEntity>> InsertOrGetAsync<TEntity>(
        this DbSet<TEntity> set,
        TEntity entity,
        bool track,
        CancellationToken cancellationToken = default)
        where TEntity : class
        => WriteAsync(set, entity, upsert: false, track, null, cancellationToken);

    /// <summary>
    /// Inserts <paramref name="entity"/>, or updates the row with the same key (<c>INSERT … ON CONFLICT DO UPDATE</c>), and
    /// attaches the result to the context.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="set">The set.</param>
    /// <param name="entity">The entity to write.</param>
    /// <param name="cancellationToken">A token to cancel the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Updated"/> or <see cref="WriteOutcome.Unchanged"/>.</returns>
    /// <exception cref="TableMappingException">Thrown when the entity type cannot be mapped to one table row.</exception>
    /// <exception cref="IdempotentWritesException">Thrown for a database error, typed as the core writer types it.</exception>
    public static Task<WriteResult<TEntity>> UpsertAsync<TEntity>(
        this DbSet<TEntity> set,
        TEntity entity,
        CancellationToken cancellationToken = default)
        where TEntity : class
        => WriteAsync(set, entity, upsert: true, track: true, null, cancellationToken);

    /// <summary>
    /// Inserts <paramref name="entity"/>, or updates the row with the same key.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="set">The set.</param>
    /// <param name="entity">The entity to write.</param>
    /// <param name="track"><see langword="false"/> to leave the change tracker untouched.</param>
    /// <param name="cancellationToken">A token to cancel the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Updated"/> or <see cref="WriteOutcome.Unchanged"/>.</returns>
    /// <exception cref="TableMappingException">Thrown when the entity type cannot be mapped to one table row.</exception>
    /// <exception cref="IdempotentWritesException">Thrown for a database error, typed as the core writer types it.</exception>
    public static Task<WriteResult<TEntity>> UpsertAsync<TEntity>(
        this DbSet<TEntity> set,
        TEntity entity,
        bool track,
        CancellationToken cancellationToken = default)
        where TEntity : class
        => WriteAsync(set, entity, upsert: true, track, null, cancellationToken);

    /// <summary>
    /// Inserts <paramref name="entity"/>, or returns the stored row whose <paramref name="conflictKey"/> matches: this call's own
    /// conflict key instead of the model's (<see cref="IdempotentWritesEntityTypeBuilderExtensions.HasIdempotentKey{TEntity, TKey}"/>).
    /// A unique index or constraint over exactly these columns must exist.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <typeparam name="TKey">The key's type.</typeparam>
    /// <param name="set">The set.</param>
    /// <param name="entity">The entity to insert.</param>
    /// <param name="conflictKey">One property (<c>e => e.Email</c>) or several (<c>e => new { e.TenantId, e.Email }</c>).</param>
    /// <param name="track"><see langword="false"/> to leave the change tracker untouched.</param>
    /// <param name="cancellationToken">A token to cancel the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/> or <see cref="WriteOutcome.Existing"/> with the stored entity.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="conflictKey"/> does not select properties.</exception>
    /// <exception cref="TableMappingException">Thrown when the entity type cannot be mapped to one table row.</exception>
    /// <exception cref="IdempotentWritesException">Thrown for a database error, typed as the core writer types it.</exception>
    public static Task<WriteResult<TEntity>> InsertOrGetAsync<TEntity, TKey>(
        this DbSet<TEntity> set,
        TEntity entity,
        Expression<Func<TEntity, TKey>> conflictKey,
        bool track = true,
        CancellationToken cancellationToken = default)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(conflictKey);
        return WriteAsync(set, entity, upsert: false, track, KeySelector.Names(conflictKey, nameof(conflictKey)), cancellationToken);
    }

    /// <summary>
    /// Inserts <paramref name="entity"/>, or updates the row whose <paramref name="conflictKey"/> matches: this call's own
    /// conflict key instead of the model's. A unique index or constraint over exactly these columns must exist.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <typeparam name="TKey">The key's type.</typeparam>
    /// <param name="set">The set.</param>
    /// <param name="entity">The entity to write.</param>
    /// <param name="conflictKey">One property (<c>e => e.Email</c>) or several (<c>e => new { e.TenantId, e.Email }</c>).</param>
    /// <param name="track"><see langword="false"/> to leave the change tracker untouched.</param>
    /// <param name="cancellationToken">A token to cancel the operation.</param>
    /// <returns><see cref="WriteOutcome.Inserted"/>, <see cref="WriteOutcome.Updated"/> or <see cref="WriteOutcome.Unchanged"/>.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="conflictKey"/> does not select properties.</exception>
    /// <exception cref="TableMappingException">Thrown when the entity type cannot be mapped to one table row.</exception>
    /// <exception cref="IdempotentWritesException">Thrown for a database error, typed as the core writer types it.</exception>
    public static Task<WriteResult<TEntity>> UpsertAsync<TEntity, TKey>(
        this DbSet<TEntity> set,
        TEntity entity,
        Expression<Func<TEntity, TKey>> conflictKey,
        bool track = true,
        CancellationToken cancellationToken = default)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(conflictKey);
        return WriteAsync(set, entity, upsert: true, track, KeySelector.Names(conflictKey, nameof(conflictKey)), cancellationToken);
    }

    /// <summary>
    /// Bulk-inserts <paramref name="entities"/> over <c>COPY</c>, skipping those whose key exists (the core writer's
    /// <see cref="IIdempotentWriter.InsertManyAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/>). The entities
    /// are not tracked.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="set">The set.</param>
    /// <param name="entities">The entities.</param>
    /// <param name="options">Bulk options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">A token to cancel the operation.</param>
    /// <returns>The report: rows inserted, skipped and why.</returns>
    /// <exception cref="InvalidOperationException">
    /// Thrown when the context has a current transaction: a bulk write commits on its own, chunk by chunk.
    /// </exception>
    public static Task<BulkWriteReport<TEntity>> InsertManyAsync<TEntity>(
        this DbSet<TEntity> set,
        IEnumerable<TEntity> entities,
        BulkWriteOptions? options = null,
        CancellationToken cancellationToken = default)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(entities);
        var context = set.GetService<ICurrentDbContext>().Context;
        if (context.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException(
                $"InsertManyAsync commits on its own, chunk by chunk, but {context.GetType().Name} has a current transaction, so " +
                "its rows would not roll back with it. Write inside the transaction with InsertOrGetAsync, or bulk-load outside it.");
        }

        return InsertManyCoreAsync(context, entities, options, cancellationToken);
    }

    private static async Task<BulkWriteReport<TEntity>> InsertManyCoreAsync<TEntity>(
        DbContext context,
        IEnumerable<TEntity> entities,
        BulkWriteOptions? options,
        CancellationToken cancellationToken)
        where TEntity : class
    {
        // One column list for the whole load: the first entity's choice of values left to the database defaults.
        var mapping = EntityWriters.MappingFor<TEntity>(context);
        using var rows = entities.GetEnumerator();
        var first = rows.MoveNext() ? FillClientGuids(mapping, rows.Current) : null;
        var mask = first is null ? 0 : mapping.Mask(first);
        var writer = EntityWriters.For<TEntity>(context, mask).Writer;
        return await writer.InsertManyAsync(Rows(mapping, first, rows, mask), options, cancellationToken).ConfigureAwait(false);
    }

    private static IEnumerable<TEntity> Rows<TEntity>(EntityTableMapping mapping, TEntity? first, IEnumerator<TEntity> rows, int mask)
        where TEntity : class
    {
        if (first is null)
        {
            yield break;
        }

        yield return first;
        for (var position = 2L; rows.MoveNext(); position++)
        {
            var row = FillClientGuids(mapping, rows.Current);
            if (mapping.Mask(row) is var own && own != mask)
            {
                throw new InvalidOperationException(
                    $"Entity {position} of the InsertManyAsync input sets {mapping.DescribeDifference(own, mask)} differently from the " +
                    "first: one leaves it to the database's default (its value is the property's default), the other gives a " +
                    "value. A bulk write sends one column list; set it on every entity or on none.");
            }

            yield return row;
        }
    }

    private static async Task<WriteResult<TEntity>> WriteAsync<TEntity>(
        DbSet<TEntity> set,
        TEntity entity,
        bool upsert,
        bool track,
        string[]? keyOverride,
        CancellationToken cancellationToken)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(entity);
        var context = set.GetService<ICurrentDbContext>().Context;
        var mapping = EntityWriters.MappingFor<TEntity>(context, keyOverride);
        FillClientGuids(mapping, entity);
        var writer = EntityWriters.For<TEntity>(context, mapping.Mask(entity), keyOverride).Writer;
        var result = context.Database.CurrentTransaction?.GetDbTransaction() switch
        {
            null => upsert
                ? await writer.UpsertAsync(entity, cancellationToken).ConfigureAwait(false)
                : await writer.InsertOrGetAsync(entity, cancellationToken).ConfigureAwait(false),
            NpgsqlTransaction transaction => upsert
                ? await writer.UpsertAsync(entity, transaction, cancellationToken).ConfigureAwait(false)
                : await writer.InsertOrGetAsync(entity, transaction, cancellationToken).ConfigureAwait(false),
            var other => throw new InvalidOperationException(
                $"{context.GetType().Name}'s current transaction is a {other.GetType().Name}, not an NpgsqlTransaction."),
        };
        return track ? Track(set, context, mapping, result, upsert) : result;
    }

    private static WriteResult<TEntity> Track<TEntity>(
        DbSet<TEntity> set,
        DbContext context,
        EntityTableMapping mapping,
        WriteResult<TEntity> result,
        bool upsert)
        where TEntity : class
    {
        var row = result.Row;
        var key = mapping.EntityType.FindPrimaryKey()!.Properties.Select(p => p.PropertyInfo!.GetValue(row)).ToArray();
        var tracked = set.Local.FindEntryUntyped(key);
        if (tracked is null)
        {
            context.Entry(row).State = EntityState.Unchanged;
            return result;
        }

        if (ReferenceEquals(tracked.Entity, row))
        {
            // The caller's own instance, added to the context before the call: it is stored now.
            if (tracked.State == EntityState.Added)
            {
                tracked.State = EntityState.Unchanged;
            }

            return result;
        }

        if (upsert && tracked.State == EntityState.Unchanged)
        {
            tracked.CurrentValues.SetValues(row);
            tracked.OriginalValues.SetValues(row);
            tracked.State = EntityState.Unchanged;
        }

        return new WriteResult<TEntity>(result.Outcome, tracked.Entity, result.Attempts);
    }

    private static TEntity FillClientGuids<TEntity>(EntityTableMapping mapping, TEntity entity)
        where TEntity : class
    {
        foreach (var property in mapping.ClientGuids)
        {
            if (property.GetValue(entity) is Guid guid && guid == Guid.Empty)
            {
                // What EF's client-side generator would have done on Add: a new, time-ordered Guid.
                property.SetValue(entity, Guid.CreateVersion7());
            }
        }

        return entity;
    }
}

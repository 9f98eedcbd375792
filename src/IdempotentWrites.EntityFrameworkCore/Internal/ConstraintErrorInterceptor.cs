// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;

namespace IdempotentWrites.EntityFrameworkCore.Internal;

// Turns a DbUpdateException caused by a constraint (23505, 23503, 23502, 23514, 23P01) into the SDK's typed exception, thrown
// from SaveChanges in its place (inner: the DbUpdateException, whose Entries stay reachable). Unique violations get the
// constraint's columns from the catalog, read on a connection of their own (the failed transaction refuses reads), and
// the values from the one failed entry that maps to the table, never from the error's DETAIL.
internal sealed class ConstraintErrorInterceptor : SaveChangesInterceptor
{
    public static readonly ConstraintErrorInterceptor Instance = new();

    public override void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        if (TranslateAsync(eventData, sync: true, CancellationToken.None).GetAwaiter().GetResult() is { } translated)
        {
            throw translated;
        }
    }

    public override async Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        if (await TranslateAsync(eventData, sync: false, cancellationToken).ConfigureAwait(false) is { } translated)
        {
            throw translated;
        }
    }

    private static async Task<Exception?> TranslateAsync(DbContextErrorEventData eventData, bool sync, CancellationToken cancellationToken)
    {
        if (eventData.Exception is not DbUpdateException update || Find(update) is not { } postgres
            || postgres.SqlState is not ("23505" or "23503" or "23502" or "23514" or "23P01"))
        {
            return null;
        }

        IdempotentWritesException? typed = null;
        // A clone shares the connection's data source (and its password); a wrapped connection (a profiler's) is not cloned.
        if (postgres.SqlState == "23505" && eventData.Context?.Database.GetDbConnection() is NpgsqlConnection connection)
        {
            try
            {
                var catalog = (NpgsqlConnection)((ICloneable)connection).Clone();
                await using (catalog.ConfigureAwait(false))
                {
                    if (sync)
                    {
                        catalog.Open();
                    }
                    else
                    {
                        await catalog.OpenAsync(cancellationToken).ConfigureAwait(false);
                    }

                    typed = await PostgresErrors.TranslateAsync(postgres, catalog, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The columns are decoration: the violation is reported without them.
            }
        }

        typed ??= await PostgresErrors.TranslateAsync(postgres, null, cancellationToken).ConfigureAwait(false);
        var entities = update.Entries.Select(e => e.Metadata.DisplayName()).Distinct(StringComparer.Ordinal).ToArray();
        return typed switch
        {
            UniqueViolationException unique => new UniqueViolationException(
                unique.SchemaName,
                unique.TableName,
                unique.ConstraintName,
                unique.Columns,
                unique.Expressions,
                unique.IsPrimaryKey,
                ValuesOf(update.Entries, unique),
                update,
                unique.IsGeneratedKey || IsGeneratedKey(update.Entries, unique)) { EntityTypes = entities },
            ForeignKeyViolationException fk => new ForeignKeyViolationException(fk.SchemaName, fk.TableName, fk.ConstraintName, update)
            {
                EntityTypes = entities,
            },
            NotNullViolationException notNull => new NotNullViolationException(notNull.SchemaName, notNull.TableName, notNull.ColumnName, update)
            {
                EntityTypes = entities,
            },
            CheckViolationException check => new CheckViolationException(check.SchemaName, check.TableName, check.ConstraintName, update)
            {
                EntityTypes = entities,
            },
            ExclusionViolationException exclusion => new ExclusionViolationException(
                exclusion.SchemaName, exclusion.TableName, exclusion.ConstraintName, update) { EntityTypes = entities },
            _ => null,
        };
    }

    private static PostgresException? Find(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is PostgresException postgres)
            {
                return postgres;
            }
        }

        return null;
    }

    // A primary key whose value the database generated for the failed entry (a temporary value in the change tracker, never
    // set by the application) conflicts only because the column's sequence is behind the table's data: sequence drift.
    private static bool IsGeneratedKey(IReadOnlyList<EntityEntry> entries, UniqueViolationException unique)
        => unique.IsPrimaryKey
            && Matching(entries, unique) is [var entry]
            && entry.Metadata.FindPrimaryKey() is { } key
            && key.Properties.All(p => entry.Property(p.Name).IsTemporary);

    // The failed entries on the violated table (an entity without a schema is in whichever the search path resolved).
    private static List<EntityEntry> Matching(IReadOnlyList<EntityEntry> entries, UniqueViolationException unique)
        => [.. entries.Where(e => e.Metadata.GetTableName() == unique.TableName
            && (unique.SchemaName is null || e.Metadata.GetSchema() is null || e.Metadata.GetSchema() == unique.SchemaName))];

    // The key's values, from the one failed entry that maps to the violated table (EF reports a whole batch's entries when it
    // cannot tell which row failed: then none).
    private static Dictionary<string, object?>? ValuesOf(IReadOnlyList<EntityEntry> entries, UniqueViolationException unique)
    {
        if (unique.Columns.Count == 0 || unique.Expressions.Count > 0 || unique.TableName is null)
        {
            return null;
        }

        var matching = Matching(entries, unique);
        if (matching.Count != 1)
        {
            return null;
        }

        var entry = matching[0];
        var store = StoreObjectIdentifier.Table(entry.Metadata.GetTableName()!, entry.Metadata.GetSchema());
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var column in unique.Columns)
        {
            var property = entry.Metadata.GetProperties().FirstOrDefault(p => p.GetColumnName(store) == column);
            if (property is null)
            {
                return null;
            }

            values[column] = entry.Property(property.Name).CurrentValue;
        }

        return values;
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.Internal;

// Turns PostgresExceptions into the SDK's typed exceptions, from the SQLSTATE and the error's own fields only
// (never from the localized, possibly redacted message or DETAIL text). Constraint definitions are cached.
internal sealed class ErrorTranslator(ILogger logger)
{
    private readonly ConcurrentDictionary<(string? Schema, string Name), IndexDefinition> _indexes = new();

    public static Exception? TranslateWithoutCatalog(PostgresException error) => error.SqlState switch
    {
        PostgresErrorCodes.UniqueViolation => new UniqueViolationException(error.SchemaName, error.TableName, error.ConstraintName, [], [], false, null, error),
        _ => TranslateOther(error, null),
    };

    public async Task<Exception> TranslateAsync(PostgresException error, NpgsqlConnection? connection, TableMapping? mapping, object?[]? insertValues, CancellationToken cancellationToken)
    {
        if (error.SqlState != PostgresErrorCodes.UniqueViolation)
        {
            return (Exception?)TranslateOther(error, mapping?.DisplayName) ?? error;
        }

        var index = error.ConstraintName is null || connection is null
            ? null
            : await DescribeAsync(connection, error.SchemaName, error.ConstraintName, cancellationToken).ConfigureAwait(false);
        if (index is null)
        {
            return new UniqueViolationException(error.SchemaName, error.TableName, error.ConstraintName, [], [], false, null, error);
        }

        return new UniqueViolationException(
            error.SchemaName ?? index.Schema,
            error.TableName ?? index.Table,
            error.ConstraintName,
            index.Columns,
            index.Expressions,
            index.IsPrimaryKey,
            ValuesOf(index, mapping, insertValues),
            error,
            IsGeneratedKey(index, mapping));
    }

    public async Task<IndexDefinition?> DescribeAsync(NpgsqlConnection connection, string? schema, string name, CancellationToken cancellationToken)
    {
        if (_indexes.TryGetValue((schema, name), out var cached))
        {
            return cached;
        }

        try
        {
            var index = await CatalogQueries.ReadIndexAsync(connection, schema, name, cancellationToken).ConfigureAwait(false);
            if (index is not null)
            {
                _indexes[(schema, name)] = index;
            }

            return index;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The original violation matters more than its decoration: report it without columns.
            logger.ConstraintLookupFailed(name, ex);
            return null;
        }
    }

    // Every key column is one the SDK never sends (marked Generated): the database produced the conflicting value.
    private static bool IsGeneratedKey(IndexDefinition index, TableMapping? mapping)
        => mapping is not null
            && index.Table == mapping.Table
            && index.Expressions.Count == 0
            && index.Columns.Count > 0
            && index.Columns.All(c => mapping.Columns.Any(m => m.IsGenerated && m.ColumnName == c));

    private static Dictionary<string, object?>? ValuesOf(IndexDefinition index, TableMapping? mapping, object?[]? insertValues)
    {
        if (mapping is null || insertValues is null || index.Table != mapping.Table || index.Columns.Count == 0)
        {
            return null;
        }

        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var column in index.Columns)
        {
            var position = -1;
            for (var i = 0; i < mapping.InsertColumns.Count; i++)
            {
                if (mapping.InsertColumns[i].ColumnName == column)
                {
                    position = i;
                    break;
                }
            }

            if (position < 0)
            {
                // A generated column (the primary key of a drifted sequence, typically): the SDK never saw its value.
                return null;
            }

            values[column] = insertValues[position];
        }

        return values;
    }

    private static IdempotentWritesException? TranslateOther(PostgresException error, string? table) => error.SqlState switch
    {
        PostgresErrorCodes.ForeignKeyViolation => new ForeignKeyViolationException(error.SchemaName, error.TableName, error.ConstraintName, error),
        PostgresErrorCodes.NotNullViolation => new NotNullViolationException(error.SchemaName, error.TableName, error.ColumnName, error),
        PostgresErrorCodes.CheckViolation => new CheckViolationException(error.SchemaName, error.TableName, error.ConstraintName, error),
        PostgresErrorCodes.ExclusionViolation => new ExclusionViolationException(error.SchemaName, error.TableName, error.ConstraintName, error),
        PostgresErrorCodes.CardinalityViolation => new CardinalityViolationException(error.TableName, error),
        SqlStates.GeneratedAlways => new GeneratedAlwaysViolationException(error.TableName, error.ColumnName, error),
        PostgresErrorCodes.QueryCanceled => new StatementTimeoutException(error.TableName ?? table, error),
        PostgresErrorCodes.SerializationFailure => new TransientConflictException(
            "Serialization failure: a concurrent transaction changed or inserted a conflicting row. Retry the whole transaction.", error.SqlState, error),
        PostgresErrorCodes.DeadlockDetected => new TransientConflictException(
            "Deadlock detected: PostgreSQL aborted this write to break a lock cycle. Retry it (inside a transaction: retry the transaction).", error.SqlState, error),
        PostgresErrorCodes.LockNotAvailable => new TransientConflictException(
            "A lock needed by this write was not available (lock_timeout or NOWAIT). Retry it.", error.SqlState, error),
        _ => null,
    };
}

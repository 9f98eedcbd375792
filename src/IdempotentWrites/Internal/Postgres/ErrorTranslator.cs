// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Mapping;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.Internal.Postgres;

// Turns PostgresExceptions into the SDK's typed exceptions, from the SQLSTATE and the error's own fields only
// (never from the localized, possibly redacted message or DETAIL text). Constraint definitions are cached.
internal sealed class ErrorTranslator(ILogger logger)
{
    private readonly ConcurrentDictionary<(string? Schema, string Name), IndexDefinition> _indexes = new();

    public static Exception? TranslateWithoutCatalog(PostgresException error) => SqlStates.Classify(error.SqlState) switch
    {
        SqlStateKind.UniqueViolation => new UniqueViolationException(
            error.SchemaName,
            error.TableName,
            error.ConstraintName,
            [],
            [],
            false,
            null,
            error),
        _ => TranslateOther(error, null, singleRowStatement: false),
    };

    // The cause of a 21000 from the error's Routine (the server's C function name, never translated; these four exist
    // under these names from PostgreSQL 13 to 18), else from the statement: the SDK's single-row INSERT/upsert can never
    // affect one row twice, so there the error came from a subquery run by a trigger, rule, default or function. The
    // message and Where (CONTEXT) texts are translated by lc_messages, so neither is read.
    public static CardinalityViolationCause CardinalityCause(PostgresException error, bool singleRowStatement) => error.Routine switch
    {
        "ExecOnConflictUpdate" or "ExecMergeMatched" => CardinalityViolationCause.RowAffectedTwice,
        "ExecScanSubPlan" or "ExecSetParamPlan" => CardinalityViolationCause.SubqueryReturnedMoreThanOneRow,
        _ => singleRowStatement ? CardinalityViolationCause.SubqueryReturnedMoreThanOneRow : CardinalityViolationCause.Unknown,
    };

    // insertValues is the one row of a single-row statement (InsertOrGet, Upsert, Insert); null for a multi-row statement
    // (a bulk chunk) or when no row is known. A future statement carrying several calls' rows must not pass one call's values.
    public async Task<Exception> TranslateAsync(
        PostgresException error,
        NpgsqlConnection? connection,
        TableMapping? mapping,
        object?[]? insertValues,
        CancellationToken cancellationToken)
    {
        var kind = SqlStates.Classify(error.SqlState);
        if (kind == SqlStateKind.GeneratedAlways && connection is not null && mapping is not null)
        {
            return await TranslateGeneratedAlwaysAsync(error, connection, mapping, cancellationToken).ConfigureAwait(false);
        }

        // PostgreSQL 13 reports a value written into a generated (stored) column as a syntax error, 42601.
        if (error.SqlState == PostgresErrorCodes.SyntaxError && connection is { PostgreSqlVersion.Major: < 14 } && mapping is not null)
        {
            var translated = await TranslateGeneratedAlwaysAsync(error, connection, mapping, cancellationToken).ConfigureAwait(false);
            return translated is GeneratedAlwaysViolationException { ColumnName: not null } ? translated : error;
        }

        if (kind != SqlStateKind.UniqueViolation)
        {
            return (Exception?)TranslateOther(error, mapping, insertValues is not null) ?? error;
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
            index.ReportedColumns,
            index.Expressions,
            index.IsPrimaryKey,
            ValuesOf(index, mapping, insertValues),
            error,
            IsGeneratedKey(index, mapping));
    }

    // An error raised by a COMMIT the SDK sends for work it did not write itself (ExecuteInTransactionAsync: deferred
    // constraints, serialization failures): no mapping and no values are known. The catalog is read on a connection of
    // its own, as the transaction's connection may be gone; a failed lookup still yields the typed exception, without columns.
    public async Task<Exception> TranslateCommitAsync(PostgresException error, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (SqlStates.Classify(error.SqlState) != SqlStateKind.UniqueViolation || error.ConstraintName is null)
        {
            return TranslateWithoutCatalog(error) ?? error;
        }

        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                return await TranslateAsync(error, connection, null, null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or OperationCanceledException)
        {
            logger.ConstraintLookupFailed(error.ConstraintName, ex);
            return TranslateWithoutCatalog(error) ?? error;
        }
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

    // A 428C9 names neither table nor column outside its localized text: the column is the first one the write gave a
    // value that the catalog now declares GENERATED ALWAYS (the schema changed after the mapping was resolved, typically).
    private async Task<Exception> TranslateGeneratedAlwaysAsync(
        PostgresException error,
        NpgsqlConnection connection,
        TableMapping mapping,
        CancellationToken cancellationToken)
    {
        string? column = null;
        try
        {
            column = await CatalogQueries.ReadFirstGeneratedAlwaysColumnAsync(
                connection, mapping.QualifiedName, [.. mapping.InsertColumns.Select(c => c.ColumnName)], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            logger.ConstraintLookupFailed(mapping.DisplayName, ex);
        }

        return new GeneratedAlwaysViolationException(error.TableName ?? mapping.Table, error.ColumnName ?? column, error);
    }

    private static IdempotentWritesException? TranslateOther(
        PostgresException error,
        TableMapping? mapping,
        bool singleRowStatement) => SqlStates.Classify(error.SqlState) switch
    {
        SqlStateKind.ForeignKeyViolation => new ForeignKeyViolationException(error.SchemaName, error.TableName, error.ConstraintName, error),
        SqlStateKind.NotNullViolation => new NotNullViolationException(error.SchemaName, error.TableName, error.ColumnName, error),
        SqlStateKind.CheckViolation => new CheckViolationException(error.SchemaName, error.TableName, error.ConstraintName, error),
        SqlStateKind.ExclusionViolation => new ExclusionViolationException(error.SchemaName, error.TableName, error.ConstraintName, error),
        SqlStateKind.CardinalityViolation => new CardinalityViolationException(
            error.TableName ?? mapping?.Table, CardinalityCause(error, singleRowStatement), error),
        SqlStateKind.GeneratedAlways => new GeneratedAlwaysViolationException(error.TableName ?? mapping?.Table, error.ColumnName, error),
        SqlStateKind.QueryCanceled => new StatementTimeoutException(error.TableName ?? mapping?.DisplayName, error),
        SqlStateKind.TransientConflict => new TransientConflictException(TransientConflictMessage(error.SqlState), error.SqlState, error),
        _ => null,
    };

    private static string TransientConflictMessage(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.SerializationFailure
            => "Serialization failure: a concurrent transaction changed or inserted a conflicting row. Retry the whole transaction.",
        PostgresErrorCodes.DeadlockDetected
            => "Deadlock detected: PostgreSQL aborted this write to break a lock cycle. Retry it (inside a transaction: retry the transaction).",
        _ => "A lock needed by this write was not available (lock_timeout or NOWAIT). Retry it.",
    };
}

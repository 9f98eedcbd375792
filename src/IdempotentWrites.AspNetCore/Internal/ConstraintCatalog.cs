// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using IdempotentWrites.Internal.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.AspNetCore.Internal;

// The key columns of a violated constraint (for an expression index, the columns its expressions read), for errors that
// carry only its name. The query is core's ConstraintColumns (linked); this adds the time limit and a per-process cache
// (catalog definitions, not coordination state, so caching is safe).
internal sealed class ConstraintCatalog(IServiceProvider services, ILogger<ConstraintCatalog> logger)
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<(string Schema, string Table, string Constraint), string[]> _columns = new();

    // connection: one the caller holds and may lend (a transactional request's, after its rollback), so the lookup takes
    // no second pooled connection; null to use the writer's data source.
    public async ValueTask<IReadOnlyList<string>> GetColumnsAsync(
        string? schema,
        string? table,
        string? constraint,
        NpgsqlConnection? connection,
        CancellationToken cancellationToken)
    {
        if (schema is null || table is null || constraint is null)
        {
            return [];
        }

        if (_columns.TryGetValue((schema, table, constraint), out var cached))
        {
            return cached;
        }

        try
        {
            var dataSource = connection is null ? services.GetService<IdempotentWritesDataSource>()?.DataSource : null;
            if (connection is null && dataSource is null)
            {
                return [];
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(LookupTimeout);
            var result = connection is not null
                ? await ConstraintColumns.ReadAsync(connection, schema, table, constraint, timeout.Token).ConfigureAwait(false)
                : await ConstraintColumns.ReadAsync(dataSource!, schema, table, constraint, timeout.Token).ConfigureAwait(false);
            if (result.Length > 0)
            {
                _columns[(schema, table, constraint)] = result;
            }

            return result;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or OperationCanceledException
            && !cancellationToken.IsCancellationRequested)
        {
            // The violation matters more than its decoration: answer it without fields.
            logger.ConstraintLookupFailed(constraint, ex);
            return [];
        }
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites;

/// <summary>
/// The PostgreSQL data source IdempotentWrites uses — its own, built from <see cref="IdempotentWritesOptions.ConnectionString"/>,
/// or the <see cref="NpgsqlDataSource"/> registered in dependency injection. Resolve it to share the writer's connection pool
/// (the ASP.NET Core package's key store does).
/// </summary>
public sealed class IdempotentWritesDataSource : IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource? _owned;

    internal IdempotentWritesDataSource(IServiceProvider services, IOptions<IdempotentWritesOptions> options)
    {
        var value = options.Value;
        if (value.ConnectionString is not null)
        {
            var builder = new NpgsqlConnectionStringBuilder(value.ConnectionString);
            if (value.TransactionPooling)
            {
                // A reset (DISCARD ALL) or an automatically prepared statement would land on whichever server
                // connection the pooler lends next.
                builder.NoResetOnClose = true;
                builder.MaxAutoPrepare = 0;
            }

            _owned = NpgsqlDataSource.Create(builder.ConnectionString);
            DataSource = _owned;
            return;
        }

        DataSource = (value.DataSourceServiceKey is null
            ? services.GetService<NpgsqlDataSource>()
            : services.GetKeyedService<NpgsqlDataSource>(value.DataSourceServiceKey))
            ?? throw new InvalidOperationException(
                value.DataSourceServiceKey is null
                    ? "IdempotentWritesOptions.ConnectionString is not set and no NpgsqlDataSource is registered; set the option or call services.AddNpgsqlDataSource(...)."
                    : $"IdempotentWritesOptions.DataSourceServiceKey is '{value.DataSourceServiceKey}', but no NpgsqlDataSource is registered under that key.");
    }

    /// <summary>
    /// Gets the data source.
    /// </summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// Disposes the data source when IdempotentWrites built it from a connection string; a data source from DI is left to its owner.
    /// </summary>
    public void Dispose() => _owned?.Dispose();

    /// <summary>
    /// Disposes the data source when IdempotentWrites built it from a connection string; a data source from DI is left to its owner.
    /// </summary>
    /// <returns>A task that completes when the data source is disposed.</returns>
    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}

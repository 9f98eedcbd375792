// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites.AspNetCore.Internal;

// The data source of the key store and of catalog lookups: the same database the writer uses, resolved from the same
// IdempotentWritesOptions (the core's own resolver is internal to it).
internal sealed class IdempotencyDataSource : IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource? _owned;

    public IdempotencyDataSource(IServiceProvider services, IOptions<IdempotentWritesOptions> options)
    {
        var value = options.Value;
        if (value.ConnectionString is not null)
        {
            _owned = NpgsqlDataSource.Create(value.ConnectionString);
            DataSource = _owned;
            return;
        }

        DataSource = (value.DataSourceServiceKey is null
            ? services.GetService<NpgsqlDataSource>()
            : services.GetKeyedService<NpgsqlDataSource>(value.DataSourceServiceKey))
            ?? throw new InvalidOperationException(
                value.DataSourceServiceKey is null
                    ? "IdempotentWritesOptions.ConnectionString is not set and no NpgsqlDataSource is registered; set the option or register an NpgsqlDataSource."
                    : $"IdempotentWritesOptions.DataSourceServiceKey is '{value.DataSourceServiceKey}', but no NpgsqlDataSource is registered under that key.");
    }

    public NpgsqlDataSource DataSource { get; }

    public void Dispose() => _owned?.Dispose();

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}

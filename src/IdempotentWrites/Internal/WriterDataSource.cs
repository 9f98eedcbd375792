// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites.Internal;

// The data source the writer uses: its own (from IdempotentWritesOptions.ConnectionString) or one registered in DI.
internal sealed class WriterDataSource : IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource? _owned;

    public WriterDataSource(IServiceProvider services, IOptions<IdempotentWritesOptions> options)
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

    public NpgsqlDataSource DataSource { get; }

    public void Dispose() => _owned?.Dispose();

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}

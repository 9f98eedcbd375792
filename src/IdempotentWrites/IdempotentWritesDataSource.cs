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
            else if (!Mentions(value.ConnectionString, "noresetonclose"))
            {
                // Every statement the SDK sends leaves the session as it found it (savepoints, SET LOCAL, set_config(…, true),
                // ON COMMIT DROP temporary tables, transaction-scoped advisory locks), so resetting each connection on its
                // way back to the pool is a wasted round trip: about a third of a hot-key call here. An explicit
                // "No Reset On Close=false" in the connection string keeps the reset.
                builder.NoResetOnClose = true;
            }

            var multiHost = builder.Host?.Contains(',', StringComparison.Ordinal) == true;
            if (multiHost && builder.TargetSessionAttributes is null)
            {
                // Npgsql's default for several hosts is "any": a write, a select-first read or a key read could land on a
                // standby. The options validator refuses any explicit value but primary and read-write.
                builder.TargetSessionAttributes = "primary";
            }

            if (multiHost && !Mentions(value.ConnectionString, "hostrecheckseconds"))
            {
                // Several hosts (a primary and its standbys): Npgsql caches each host's state (down, primary, standby) for
                // Host Recheck Seconds, 10 by default, and until the promoted standby's entry expires it answers "No
                // suitable host was found". 1 s brings a failover's outage after promotion from ~10 s to under 1 s
                // (docs/scaling.md); the recheck costs a query only when a new physical connection is opened.
                builder.HostRecheckSeconds = 1;
            }

            _owned = NpgsqlDataSource.Create(builder.ConnectionString);
            DataSource = _owned;
            return;
        }

        DataSource = PrimaryOnly((value.DataSourceServiceKey is null
            ? services.GetService<NpgsqlDataSource>()
            : services.GetKeyedService<NpgsqlDataSource>(value.DataSourceServiceKey))
            ?? throw new InvalidOperationException(
                value.DataSourceServiceKey is null
                    ? "IdempotentWritesOptions.ConnectionString is not set and no NpgsqlDataSource is registered; " +
                        "set the option or call services.AddNpgsqlDataSource(...)."
                    : $"IdempotentWritesOptions.DataSourceServiceKey is '{value.DataSourceServiceKey}', but no " +
                        "NpgsqlDataSource is registered under that key."));
    }

    /// <summary>
    /// Gets the data source.
    /// </summary>
    /// <remarks>
    /// A data source from DI that spans several hosts (an <see cref="NpgsqlMultiHostDataSource"/>) is used through its
    /// primary-only view (<see cref="NpgsqlMultiHostDataSource.WithTargetSession"/>, read-write if the connection string asks
    /// for that), whatever its own Target Session Attributes: the writer's reads and the key store's must never come from a
    /// standby. A view of one (<c>WithTargetSession(…)</c>) is used as registered: register the primary view. A data source
    /// built from <see cref="IdempotentWritesOptions.ConnectionString"/> does not reset connections when they
    /// return to the pool (<c>No Reset On Close=true</c>) unless the connection string sets that keyword itself: the SDK's own
    /// statements leave no session state behind. With several hosts it rechecks a host's state after 1 s
    /// (<c>Host Recheck Seconds=1</c>, Npgsql's default is 10) unless the connection string sets that keyword: a promoted
    /// standby is found within about a second. Code that borrows its connections (through this property or
    /// <see cref="IIdempotentWriter.ExecuteInTransactionAsync{TResult}"/>) should keep state transaction-scoped too
    /// (<c>SET LOCAL</c>, not <c>SET</c>).
    /// </remarks>
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

    // A data source from DI serves the application's own reads too, which may go to standbys; the SDK's statements must
    // not. A multi-host data source lends the SDK its primary-only view over the same pool (read-write if that is what the
    // application asked for). A view of one (WithTargetSession) is used as registered: Npgsql does not say publicly which
    // servers a view targets (docs/scaling.md registers the primary view).
    private static NpgsqlDataSource PrimaryOnly(NpgsqlDataSource dataSource)
        => dataSource is NpgsqlMultiHostDataSource multiHost
            ? multiHost.WithTargetSession(
                string.Equals(
                    new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).TargetSessionAttributes,
                    "read-write",
                    StringComparison.OrdinalIgnoreCase)
                    ? TargetSessionAttributes.ReadWrite
                    : TargetSessionAttributes.Primary)
            : dataSource;

    // Whether the connection string names a keyword itself (Npgsql accepts it with or without spaces, in any case).
    private static bool Mentions(string connectionString, string keyword)
    {
        var parsed = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        foreach (string key in parsed.Keys)
        {
            if (string.Equals(key.Replace(" ", string.Empty, StringComparison.Ordinal), keyword, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.AspNetCore.Internal;

// The PostgreSQL key store. A claim is one statement (the key's row when it exists, else the insert; see StoreSql.Claim),
// so a replay is one round trip that writes nothing; no lock is held between statements, and every time comes from the
// database clock. The statements are core's StoreSql (linked), the table IdempotencyStoreSchema creates.
internal sealed class PostgresIdempotencyStore : IIdempotencyTransactionalStore
{
    private const int MaxClaimAttempts = 5;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _prepare;

    public PostgresIdempotencyStore(
        IdempotentWritesDataSource dataSource,
        IOptions<HttpIdempotencyOptions> options,
        IOptions<IdempotentWritesOptions> writerOptions)
        : this(
            dataSource.DataSource,
            new StoreSql(options.Value.SchemaName, options.Value.TableName),
            writerOptions.Value.PrepareStatements && !writerOptions.Value.TransactionPooling)
    {
    }

    // prepare: the claim is prepared on each physical connection, as the writer's statements are (same options).
    public PostgresIdempotencyStore(NpgsqlDataSource dataSource, StoreSql sql, bool prepare)
    {
        _dataSource = dataSource;
        Sql = sql;
        _prepare = prepare;
    }

    public StoreSql Sql { get; }

    public async ValueTask<IdempotencyClaim> ClaimAsync(
        string scope,
        string key,
        ReadOnlyMemory<byte> fingerprint,
        TimeSpan lease,
        TimeSpan retention,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(key);
        var fingerprintBytes = fingerprint.ToArray();
        var reconnected = false;
        for (var attempt = 1; ; attempt++)
        {
            IdempotencyRecord? record;
            bool expired;
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var claim = new NpgsqlCommand(Sql.Claim, connection);
                    await using (claim.ConfigureAwait(false))
                    {
                        AddKey(claim.Parameters, scope, key);
                        claim.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = fingerprintBytes, NpgsqlDbType = NpgsqlDbType.Bytea });
                        claim.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = lease, NpgsqlDbType = NpgsqlDbType.Interval });
                        claim.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = retention, NpgsqlDbType = NpgsqlDbType.Interval });
                        if (_prepare)
                        {
                            // A no-op once this physical connection has prepared it (Npgsql keeps them across pooled opens).
                            await claim.PrepareAsync(cancellationToken).ConfigureAwait(false);
                        }

                        var reader = await claim.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                            {
                                (record, expired) = (null, false);
                            }
                            else if (reader.GetBoolean(0))
                            {
                                return IdempotencyClaim.Acquired(reader.GetInt64(2), isTakeover: false);
                            }
                            else
                            {
                                (record, expired) = ReadRecord(reader, 1);
                            }
                        }
                    }

                    if (record is null)
                    {
                        // A concurrent claim committed the key after the statement's snapshot: read it with a fresh one.
                        var select = new NpgsqlCommand(Sql.Select, connection);
                        await using (select.ConfigureAwait(false))
                        {
                            AddKey(select.Parameters, scope, key);
                            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                            await using (reader.ConfigureAwait(false))
                            {
                                (record, expired) = await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                                    ? ReadRecord(reader, 0)
                                    : (null, false);
                            }
                        }
                    }
                }
            }
            catch (Exception ex) when (!reconnected && IsBrokenConnection(ex, cancellationToken))
            {
                // Sent again on a fresh connection. Should the first claim have committed after all, the retry finds
                // it as another request's claim in progress (409, then a takeover when its lease ends): never a
                // second run of the handler.
                reconnected = Reconnect();
                attempt--;
                continue;
            }

            if (record is not null)
            {
                var takeover = expired
                    || (!record.IsCompleted && record.LeaseRemaining <= TimeSpan.Zero && record.Fingerprint.Span.SequenceEqual(fingerprintBytes));
                if (!takeover)
                {
                    return IdempotencyClaim.Exists(record);
                }

                var token = await TryTakeOverAsync(
                    scope,
                    key,
                    fingerprintBytes,
                    lease,
                    retention,
                    record.FencingToken,
                    cancellationToken).ConfigureAwait(false);
                if (token is { } acquired)
                {
                    return IdempotencyClaim.Acquired(acquired, isTakeover: true);
                }
            }

            // The row vanished between the two statements (released or purged) or another claim took it over first:
            // look again, a bounded number of times.
            if (attempt == MaxClaimAttempts)
            {
                throw new InvalidOperationException(
                    $"The idempotency key could not be claimed or read after {MaxClaimAttempts} attempts; it is changing too fast.");
            }
        }
    }

    public async ValueTask<bool> CompleteAsync(
        string scope,
        string key,
        long fencingToken,
        IdempotencyResponse response,
        TimeSpan retention,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        for (var reconnected = false; ; reconnected = Reconnect())
        {
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    return await CompleteOnAsync(
                        connection,
                        null,
                        scope,
                        key,
                        fencingToken,
                        response,
                        retention,
                        cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!reconnected && IsBrokenConnection(ex, cancellationToken))
            {
                // Fenced: a completion that did commit before the connection broke makes the retry update nothing.
            }
        }
    }

    public async ValueTask<NpgsqlTransaction> BeginTransactionAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask<bool> CompleteAsync(
        NpgsqlTransaction transaction,
        string scope,
        string key,
        long fencingToken,
        IdempotencyResponse response,
        TimeSpan retention,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(response);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is completed; its connection is gone.");
        return CompleteOnAsync(connection, transaction, scope, key, fencingToken, response, retention, cancellationToken);
    }

    private async ValueTask<bool> CompleteOnAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        string scope,
        string key,
        long fencingToken,
        IdempotencyResponse response,
        TimeSpan retention,
        CancellationToken cancellationToken)
    {
        var names = new string[response.Headers.Count];
        var values = new string[response.Headers.Count];
        for (var i = 0; i < names.Length; i++)
        {
            (names[i], values[i]) = response.Headers[i];
        }

        var command = new NpgsqlCommand(Sql.Complete, connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fencingToken });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = retention, NpgsqlDbType = NpgsqlDbType.Interval });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = response.StatusCode });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = response.Body, NpgsqlDbType = NpgsqlDbType.Bytea });
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = response.IsBodyOmitted });
            if (_prepare)
            {
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }

            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    public async ValueTask<bool> ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken)
    {
        for (var reconnected = false; ; reconnected = Reconnect())
        {
            var command = _dataSource.CreateCommand(Sql.Release);
            await using (command.ConfigureAwait(false))
            {
                AddKey(command.Parameters, scope, key);
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fencingToken });
                try
                {
                    return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
                }
                catch (Exception ex) when (!reconnected && IsBrokenConnection(ex, cancellationToken))
                {
                    // Releasing twice is releasing once.
                }
            }
        }
    }

    public async ValueTask<int> PurgeExpiredAsync(int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var command = _dataSource.CreateCommand(Sql.Purge);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<bool> ReleaseAsync(
        NpgsqlConnection connection,
        string scope,
        string key,
        long fencingToken,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = new NpgsqlCommand(Sql.Release, connection);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fencingToken });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    public async ValueTask<IdempotencyRecord?> GetAsync(NpgsqlConnection connection, string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = new NpgsqlCommand(Sql.Select, connection);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && ReadRecord(reader, 0) is (var record, false)
                    ? record
                    : null;
            }
        }
    }

    // A pooled connection that died with its server (a restart, a failover, a proxy's idle cut) fails the first command
    // sent on it: the server's shutdown notice (57P01-57P03) or end of stream, before anything ran. Such a failure gets
    // one more try on a fresh connection instead of a 503. A timeout or a cancelled request is not retried.
    private static bool IsBrokenConnection(Exception exception, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested && exception switch
        {
            PostgresException postgres => SqlStates.Classify(postgres.SqlState) == SqlStateKind.ConnectionLost,
            NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException } => true,
            _ => false,
        };

    // Every idle connection opened before the server went away is dead too: drop them, so the retry opens a live one.
    private bool Reconnect()
    {
        _dataSource.Clear();
        return true;
    }

    private static void AddKey(NpgsqlBatchCommand command, string scope, string key) => AddKey(command.Parameters, scope, key);

    private static void AddKey(NpgsqlParameterCollection parameters, string scope, string key)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = scope, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = key, NpgsqlDbType = NpgsqlDbType.Text });
    }

    // The key's row at the reader's current row, Select's columns from offset on.
    private static (IdempotencyRecord Record, bool Expired) ReadRecord(NpgsqlDataReader reader, int offset)
    {
        var fingerprint = reader.GetFieldValue<byte[]>(offset);
        var token = reader.GetInt64(offset + 1);
        var completed = reader.GetBoolean(offset + 2);
        var expired = reader.GetBoolean(offset + 3);
        var leaseRemaining = reader.IsDBNull(offset + 4) ? TimeSpan.Zero : TimeSpan.FromSeconds(reader.GetDouble(offset + 4));
        IdempotencyResponse? response = null;
        if (completed)
        {
            var names = reader.IsDBNull(offset + 6) ? [] : reader.GetFieldValue<string[]>(offset + 6);
            var values = reader.IsDBNull(offset + 7) ? [] : reader.GetFieldValue<string[]>(offset + 7);
            var headers = new KeyValuePair<string, string>[Math.Min(names.Length, values.Length)];
            for (var i = 0; i < headers.Length; i++)
            {
                headers[i] = new(names[i], values[i]);
            }

            response = new IdempotencyResponse(
                reader.GetInt32(offset + 5),
                headers,
                reader.IsDBNull(offset + 8) ? ReadOnlyMemory<byte>.Empty : reader.GetFieldValue<byte[]>(offset + 8),
                reader.GetBoolean(offset + 9));
            leaseRemaining = TimeSpan.Zero;
        }

        return (new IdempotencyRecord(fingerprint, token, leaseRemaining, response), expired);
    }

    private async ValueTask<long?> TryTakeOverAsync(
        string scope,
        string key,
        byte[] fingerprint,
        TimeSpan lease,
        TimeSpan retention,
        long observedToken,
        CancellationToken cancellationToken)
    {
        var command = _dataSource.CreateCommand(Sql.Takeover);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = fingerprint, NpgsqlDbType = NpgsqlDbType.Bytea });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = lease, NpgsqlDbType = NpgsqlDbType.Interval });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = retention, NpgsqlDbType = NpgsqlDbType.Interval });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = observedToken });
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long token ? token : null;
        }
    }
}

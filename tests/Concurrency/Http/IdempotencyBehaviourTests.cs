// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Http;

// What is stored and what releases the key, crashes and takeovers, transactional mode, store outages and purges,
// on real Kestrel and PostgreSQL.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class IdempotencyBehaviourTests(PostgresFixture db)
{
    [Fact]
    public async Task Replay_ByteIdentical_AllowListedHeadersOnly_HandlerRunsOnce()
    {
        var (schema, app) = await StartAsync();
        await using var running = app;

        var first = await Http.SendAsync(app.Client, Http.Post("/ok", new { a = 1 }, key: "k"));
        var replay = await Http.SendAsync(app.Client, Http.Post("/ok", new { a = 1 }, key: "k"));

        Assert.Equal(201, first.Status);
        Assert.False(first.Replayed);
        Assert.Equal("session=secret; HttpOnly", first.Header("Set-Cookie"));
        Assert.Equal(201, replay.Status);
        Assert.True(replay.Replayed);
        Assert.Equal(first.Body, replay.Body);
        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Equal(first.Header("ETag"), replay.Header("ETag"));
        Assert.Equal(first.Header("Content-Type"), replay.Header("Content-Type"));
        Assert.Null(replay.Header("Set-Cookie"));
        Assert.Null(replay.Header("X-Not-Replayed"));
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));
        var stored = await db.ScalarAsync<string[]>($"SELECT header_names FROM {schema}.idempotency_keys");
        Assert.Equal(["Content-Type", "Location", "ETag"], stored);
    }

    // The claim reads the key's row and inserts only when there is none, in one statement. A claim whose snapshot predates
    // another claim's commit finds no row, waits on the other's insert and inserts nothing: it must then read the committed
    // row (a second, fresh-snapshot SELECT) and replay it, never run the handler.
    [Fact]
    public async Task ClaimWaitingOnAnUncommittedClaimOfTheSameKey_ReplaysItOnceCommitted_HandlerRunsOnce()
    {
        var (schema, app) = await StartAsync();
        await using var running = app;
        var first = await Http.SendAsync(app.Client, Http.Post("/ok", new { a = 1 }, key: "a"));
        var columns = "scope, fingerprint, created_at, locked_until, expires_at, completed_at, status_code, header_names, " +
            "header_values, body, body_omitted";

        await using var other = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var copy = new NpgsqlCommand(
            $"INSERT INTO {schema}.idempotency_keys (idempotency_key, {columns}) SELECT 'b', {columns} FROM {schema}.idempotency_keys WHERE idempotency_key = 'a'",
            other,
            transaction))
        {
            Assert.Equal(1, await copy.ExecuteNonQueryAsync());
        }

        string xid;
        await using (var current = new NpgsqlCommand("SELECT txid_current()::text", other, transaction))
        {
            xid = (string)(await current.ExecuteScalarAsync())!;
        }

        var waiting = Http.SendAsync(app.Client, Http.Post("/ok", new { a = 1 }, key: "b"));
        var deadline = DateTime.UtcNow + Waits.Timeout;
        while (await db.ScalarAsync<long>(
            $"SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted AND transactionid::text = '{xid}'") == 0)
        {
            Assert.False(waiting.IsCompleted, waiting.IsCompleted ? $"Answered without waiting: {(await waiting).Status} {(await waiting).Text}" : null);
            Assert.True(DateTime.UtcNow < deadline, "The claim never waited on the uncommitted one.");
            await Task.Delay(5); // polling a condition, not orchestrating the race
        }

        Assert.False(waiting.IsCompleted);
        await transaction.CommitAsync();
        var replay = await waiting.WaitAsync(Waits.Timeout);

        Assert.Equal(201, first.Status);
        Assert.Equal(201, replay.Status);
        Assert.True(replay.Replayed);
        Assert.Equal(first.Body, replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(422)]
    [InlineData(302)]
    public async Task DeterministicStatus_StoredAndReplayed(int status)
    {
        var (schema, app) = await StartAsync();
        await using var running = app;

        var first = await Http.SendAsync(app.Client, Http.Post($"/status/{status}", new { }, key: "k"));
        var replay = await Http.SendAsync(app.Client, Http.Post($"/status/{status}", new { }, key: "k"));

        Assert.Equal(status, first.Status);
        Assert.Equal(status, replay.Status);
        Assert.True(replay.Replayed);
        Assert.Equal(first.Body, replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(408)]
    [InlineData(425)]
    [InlineData(429)]
    public async Task TransientStatus_KeyReleased_RetryRunsAgain(int status)
    {
        var (schema, app) = await StartAsync();
        await using var running = app;

        var first = await Http.SendAsync(app.Client, Http.Post($"/status/{status}", new { }, key: "k"));
        var retry = await Http.SendAsync(app.Client, Http.Post($"/status/{status}", new { }, key: "k"));

        Assert.Equal(status, first.Status);
        Assert.Equal(status, retry.Status);
        Assert.False(retry.Replayed);
        Assert.NotEqual(first.Text, retry.Text);
        Assert.Equal(2, await Sql.CountAsync(db.DataSource, schema, "runs"));
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys"));
    }

    [Fact]
    public async Task HandlerThrows_KeyReleased_500_RetryRunsAgain()
    {
        var (schema, app) = await StartAsync();
        await using var running = app;

        var first = await Http.SendAsync(app.Client, Http.Post("/throw", new { }, key: "k"));
        var retry = await Http.SendAsync(app.Client, Http.Post("/throw", new { }, key: "k"));

        Assert.Equal(500, first.Status);
        Assert.Equal(500, retry.Status);
        Assert.Equal(2, await Sql.CountAsync(db.DataSource, schema, "runs"));
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys"));
    }

    [Fact]
    public async Task WrappedPostgresUniqueViolation_409UniqueViolation_FieldsFromCatalog_StoredAndReplayed()
    {
        var (schema, app) = await StartAsync();
        await using var running = app;
        await db.ExecuteAsync($"INSERT INTO {schema}.accounts (email) VALUES ('taken@example.com')");

        var first = await Http.SendAsync(app.Client, Http.Post("/wrapped", new { }, key: "k"));
        var replay = await Http.SendAsync(app.Client, Http.Post("/wrapped", new { }, key: "k"));
        var outside = await Http.SendAsync(app.Client, Http.Post("/wrapped-plain", new { }));

        Assert.Equal(409, first.Status);
        var problem = first.Json();
        Assert.Equal("unique-violation", problem.GetProperty("code").GetString());
        Assert.Equal("accounts_email_key", problem.GetProperty("constraint").GetString());
        Assert.Equal("accounts", problem.GetProperty("table").GetString());
        Assert.Equal(["email"], problem.GetProperty("fields").EnumerateArray().Select(f => f.GetString()).ToArray());
        Assert.False(problem.TryGetProperty("values", out _));
        Assert.DoesNotContain("taken@example.com", first.Text, StringComparison.Ordinal);
        Assert.True(replay.Replayed);
        Assert.Equal(first.Body, replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));

        // Without the middleware, the exception handler gives the same answer.
        Assert.Equal(409, outside.Status);
        var plain = outside.Json();
        Assert.Equal("unique-violation", plain.GetProperty("code").GetString());
        Assert.Equal("accounts_email_key", plain.GetProperty("constraint").GetString());
        Assert.Equal(["email"], plain.GetProperty("fields").EnumerateArray().Select(f => f.GetString()).ToArray());
    }

    [Fact]
    public async Task ResponseOverBodyCap_StatusAndHeadersStored_HandlerNeverRerun_ReplayHasEmptyBody()
    {
        var (schema, app) = await StartAsync();
        await using var running = app;

        var first = await Http.SendAsync(app.Client, Http.Post("/big", new { }, key: "k"));
        var replay = await Http.SendAsync(app.Client, Http.Post("/big", new { }, key: "k"));

        Assert.Equal(201, first.Status);
        Assert.Equal(4096, first.Body.Length);
        Assert.Equal(201, replay.Status);
        Assert.True(replay.Replayed);
        Assert.Equal("/big/1", replay.Headers.Location?.OriginalString);
        Assert.Empty(replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));
        Assert.True(await db.ScalarAsync<bool>($"SELECT body_omitted FROM {schema}.idempotency_keys"));
    }

    [Fact]
    public async Task InstanceKilledMidHandler_409InProgressUntilLeaseEnds_ThenRetryRunsOnAnotherInstance()
    {
        var schema = await CreateSchemaAsync();
        var gate = new Gate();
        var crashed = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema), gate);
        await using var survivor = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema));
        var pending = Http.SendAsync(crashed.Client, Http.Post("/gate", new { n = 1 }, key: "k"));
        await gate.Started.Task.WaitAsync(Waits.Timeout);

        await crashed.KillAsync();
        var duringLease = await Http.SendAsync(survivor.Client, Http.Post("/gate", new { n = 1 }, key: "k"));
        var crashedToken = await db.ScalarAsync<long>($"SELECT fencing_token FROM {schema}.idempotency_keys");
        await Sql.EndLeasesAsync(db, schema);
        var survivorGate = survivor.App.Services.GetRequiredService<Gate>();
        survivorGate.Release.SetResult();
        var afterLease = await Http.SendAsync(survivor.Client, Http.Post("/gate", new { n = 1 }, key: "k"));
        var replay = await Http.SendAsync(survivor.Client, Http.Post("/gate", new { n = 1 }, key: "k"));

        Assert.Equal(409, duringLease.Status);
        Assert.Equal("in-progress", duringLease.Code);
        Assert.InRange(int.Parse(duringLease.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Equal(201, afterLease.Status);
        Assert.False(afterLease.Replayed);
        Assert.True(replay.Replayed);
        Assert.Equal(afterLease.Body, replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));
        Assert.True(await db.ScalarAsync<long>($"SELECT fencing_token FROM {schema}.idempotency_keys") > crashedToken);

        // The crashed instance's handler finishes late: its claim was taken over, so its result is not stored.
        gate.Release.SetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
        await crashed.DisposeAsync();
        var afterLateFinish = await Http.SendAsync(survivor.Client, Http.Post("/gate", new { n = 1 }, key: "k"));
        Assert.Equal(afterLease.Body, afterLateFinish.Body);
    }

    [Fact]
    public async Task LateFinisherAfterTakeover_FencedOut_NewOwnersResponseStaysStored()
    {
        var schema = await CreateSchemaAsync();
        var slowGate = new Gate();
        await using var slow = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema), slowGate);
        await using var fast = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema));
        fast.App.Services.GetRequiredService<Gate>().Release.SetResult();
        var late = Http.SendAsync(slow.Client, Http.Post("/gate", new { n = 1 }, key: "k"));
        await slowGate.Started.Task.WaitAsync(Waits.Timeout);
        await Sql.EndLeasesAsync(db, schema);

        var owner = await Http.SendAsync(fast.Client, Http.Post("/gate", new { n = 1 }, key: "k"));
        slowGate.Release.SetResult();
        var lateReply = await late;
        var replay = await Http.SendAsync(slow.Client, Http.Post("/gate", new { n = 1 }, key: "k"));

        Assert.Equal(201, owner.Status);
        Assert.Equal(201, lateReply.Status);
        Assert.NotEqual(owner.Text, lateReply.Text);
        Assert.True(replay.Replayed);
        Assert.Equal(owner.Body, replay.Body);
        Assert.Equal(2, await Sql.CountAsync(db.DataSource, schema, "runs"));
    }

    [Fact]
    public async Task Transactional_InstanceKilledMidHandler_NoPartialRow_RetryAfterLeaseRunsAndCommitsOnce()
    {
        var schema = await CreateSchemaAsync();
        var gate = new Gate();
        var crashed = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema), gate);
        await using var survivor = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema));
        survivor.App.Services.GetRequiredService<Gate>().Release.SetResult();
        var pending = Http.SendAsync(crashed.Client, Http.Post("/tx/gate", new { n = 1 }, key: "k"));
        var backend = await gate.BackendProcessId.Task.WaitAsync(Waits.Timeout);

        // A crashed process's connection drops; PostgreSQL rolls its transaction back.
        await crashed.KillAsync();
        await db.ScalarAsync<bool>("SELECT pg_terminate_backend($1)", backend);
        var duringLease = await Http.SendAsync(survivor.Client, Http.Post("/tx/gate", new { n = 1 }, key: "k"));
        var partialRows = await Sql.CountAsync(db.DataSource, schema, "runs");
        await Sql.EndLeasesAsync(db, schema);
        var afterLease = await Http.SendAsync(survivor.Client, Http.Post("/tx/gate", new { n = 1 }, key: "k"));
        var replay = await Http.SendAsync(survivor.Client, Http.Post("/tx/gate", new { n = 1 }, key: "k"));

        Assert.Equal(409, duringLease.Status);
        Assert.Equal("in-progress", duringLease.Code);
        Assert.Equal(0, partialRows);
        Assert.Equal(201, afterLease.Status);
        Assert.True(replay.Replayed);
        Assert.Equal(afterLease.Body, replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));

        gate.Release.SetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
        await crashed.DisposeAsync();
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));
    }

    [Fact]
    public async Task Transactional_LateFinisherAfterTakeover_WritesRolledBack_GetsTheNewOwnersResponse()
    {
        var schema = await CreateSchemaAsync();
        var slowGate = new Gate();
        await using var slow = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema), slowGate);
        await using var fast = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema));
        fast.App.Services.GetRequiredService<Gate>().Release.SetResult();
        var late = Http.SendAsync(slow.Client, Http.Post("/tx/gate", new { n = 1 }, key: "k"));
        await slowGate.Started.Task.WaitAsync(Waits.Timeout);
        await Sql.EndLeasesAsync(db, schema);

        var owner = await Http.SendAsync(fast.Client, Http.Post("/tx/gate", new { n = 1 }, key: "k"));
        slowGate.Release.SetResult();
        var lateReply = await late;

        Assert.Equal(201, owner.Status);
        Assert.Equal(201, lateReply.Status);
        Assert.True(lateReply.Replayed);
        Assert.Equal(owner.Body, lateReply.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "runs"));
    }

    [Theory]
    [InlineData(201, 1, 1)]
    [InlineData(404, 1, 1)]
    [InlineData(503, 0, 0)]
    public async Task Transactional_WritesCommitWithTheStoredResponse_OrRollBackWhenReleased(int status, long rows, long keys)
    {
        var (schema, app) = await StartAsync();
        await using var running = app;

        var reply = await Http.SendAsync(app.Client, Http.Post($"/tx/status/{status}", new { }, key: "k"));

        Assert.Equal(status, reply.Status);
        Assert.Equal(rows, await Sql.CountAsync(db.DataSource, schema, "runs"));
        Assert.Equal(keys, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys", "completed_at IS NOT NULL"));
    }

    [Fact]
    public async Task Transactional_HandlerHitsUniqueViolation_WritesRolledBack_409Stored()
    {
        var (schema, app) = await StartAsync();
        await using var running = app;
        await db.ExecuteAsync($"INSERT INTO {schema}.accounts (email) VALUES ('taken@example.com')");

        var first = await Http.SendAsync(app.Client, Http.Post("/tx/duplicate", new { }, key: "k"));
        var replay = await Http.SendAsync(app.Client, Http.Post("/tx/duplicate", new { }, key: "k"));

        Assert.Equal(409, first.Status);
        Assert.Equal("unique-violation", first.Code);
        Assert.True(replay.Replayed);
        Assert.Equal(first.Body, replay.Body);
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "runs"));
    }

    [Fact]
    public async Task StoreDownBetweenHandlerAndStore_StoreRetriedWithinTheLease_RetryReplays_HandlerRanOnce()
    {
        var schema = await CreateSchemaAsync();
        await using (var admin = NpgsqlDataSource.Create(TestSchema.ConnectionString(db, schema)))
        {
            await IdempotencyStoreSchema.MigrateAsync(admin, schema, "idempotency_keys", TestContext.Current.CancellationToken);
        }

        // The key store reaches the database through a proxy that the handler takes down after its own (direct) write
        // committed, for 1.5 s: storing the response fails until the database is back.
        var target = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        await using var proxy = new Faults.FaultProxy(target.Host!, target.Port);
        var store = TestSchema.ConnectionString(db, schema) + $";Port={proxy.Port};SSL Mode=Disable;Timeout=2";
        var gate = new Gate();
        await using var app = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema), gate, storeConnectionString: store);
        var before = await Http.SendAsync(app.Client, Http.Post("/hook", new { n = 0 }, key: "warm"));
        gate.BeforeResponse = () =>
        {
            proxy.Down = true;
            _ = Task.Delay(1_500).ContinueWith(_ => proxy.Down = false, TaskScheduler.Default);
            return Task.CompletedTask;
        };

        var first = await Http.SendAsync(app.Client, Http.Post("/hook", new { n = 1 }, key: "k"));
        gate.BeforeResponse = null;
        var retry = await Http.SendAsync(app.Client, Http.Post("/hook", new { n = 1 }, key: "k"));

        Assert.Equal(201, before.Status);
        Assert.Equal(201, first.Status);
        Assert.True(retry.Replayed, $"the retry was answered {retry.Status} {retry.Text}, not replayed");
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(2, await Sql.CountAsync(db.DataSource, schema, "runs", "endpoint = 'hook'"));
    }

    [Fact]
    public async Task StoreDown_503StoreUnavailableWithRetryAfter_HandlerDoesNotRun()
    {
        var schema = await CreateSchemaAsync();
        var dead = db.ConnectionStringWith(b =>
        {
            b.Port = 1;
            b.Timeout = 2;
        });
        await using var app = await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema), storeConnectionString: dead);
        var before = BehaviourApp.InMemoryRuns;

        var reply = await Http.SendAsync(app.Client, Http.Post("/memory", new { }, key: "k"));

        Assert.Equal(503, reply.Status);
        Assert.Equal("store-unavailable", reply.Code);
        Assert.Equal("5", reply.Header("Retry-After"));
        Assert.Equal(before, BehaviourApp.InMemoryRuns);
    }

    [Fact]
    public async Task ExpiredKey_ReadsAsAbsent_AndIsPurgedInBatches()
    {
        var (schema, app) = await StartAsync();
        await using var running = app;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(201, (await Http.SendAsync(app.Client, Http.Post("/ok", new { }, key: $"k{i}"))).Status);
        }

        await db.ExecuteAsync($"UPDATE {schema}.idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key <> 'k4'");
        var afterExpiry = await Http.SendAsync(app.Client, Http.Post("/ok", new { }, key: "k0"));
        var purged = await IdempotencyStoreSchema.PurgeExpiredAsync(db.DataSource, schema, "idempotency_keys", batchSize: 2, CancellationToken.None).WaitAsync(Waits.Timeout);

        Assert.Equal(201, afterExpiry.Status);
        Assert.False(afterExpiry.Replayed);
        Assert.Equal(6, await Sql.CountAsync(db.DataSource, schema, "runs"));
        Assert.Equal(3, purged);
        Assert.Equal(["k0", "k4"], await KeysAsync(schema));
    }

    private async Task<string[]> KeysAsync(string schema)
    {
        await using var command = db.DataSource.CreateCommand($"SELECT idempotency_key FROM {schema}.idempotency_keys ORDER BY 1");
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return [.. keys];
    }

    private async Task<string> CreateSchemaAsync()
    {
        var schema = await TestSchema.CreateAsync(db, "idem");
        await db.ExecuteAsync($"SET search_path = {schema}; {BehaviourApp.Schema}; RESET search_path;");
        return schema;
    }

    private async Task<(string Schema, RunningApp App)> StartAsync()
    {
        var schema = await CreateSchemaAsync();
        return (schema, await BehaviourApp.StartAsync(TestSchema.ConnectionString(db, schema)));
    }
}

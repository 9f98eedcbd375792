// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT


namespace IdempotentWrites.ConcurrencyTests.Http;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class IdempotencyCliTests(PostgresFixture db)
{
    [Fact]
    public async Task IwIdempotency_MigrateTwiceThenPurge_CreatesStoreAndDeletesOnlyExpiredKeys()
    {
        var schema = Names.Table("iw_store");
        await db.ExecuteAsync($"CREATE SCHEMA {schema}");

        var first = await ConcurrencyTests.Sequences.Cli.RunAsync("idempotency", "migrate", "--connection", db.ConnectionString, "--schema", schema);
        var second = await ConcurrencyTests.Sequences.Cli.RunAsync("idempotency", "migrate", "--connection", db.ConnectionString, "--schema", schema);
        await db.ExecuteAsync($"""
            INSERT INTO {schema}.idempotency_keys (scope, idempotency_key, fingerprint, expires_at)
            SELECT 'tenant', 'expired-' || g, '\x00', now() - interval '1 hour' FROM generate_series(1, 3) g;
            INSERT INTO {schema}.idempotency_keys (scope, idempotency_key, fingerprint, expires_at)
            VALUES ('tenant', 'live', '\x00', now() + interval '1 hour');
            """);
        var purge = await ConcurrencyTests.Sequences.Cli.RunAsync("idempotency", "purge", "--connection", db.ConnectionString, "--schema", schema, "--batch-size", "2");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal($"idempotency key store {schema}.idempotency_keys is ready", first.Output.Trim());
        Assert.Equal(0, purge.ExitCode);
        Assert.Equal($"purged 3 expired keys from {schema}.idempotency_keys", purge.Output.Trim());
        Assert.Equal("live", await db.ScalarAsync<string>($"SELECT string_agg(idempotency_key, ',') FROM {schema}.idempotency_keys"));
    }

    [Fact]
    public async Task IwIdempotency_MigrateDryRun_PrintsScriptWithoutConnecting()
    {
        var run = await ConcurrencyTests.Sequences.Cli.RunAsync("idempotency", "migrate", "--dry-run", "--connection", "Host=127.0.0.1;Port=1;Timeout=1");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("CREATE TABLE IF NOT EXISTS \"idempotency_keys\" (", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IwIdempotency_PurgeBeforeMigrate_SaysToRunMigrateFirst()
    {
        var schema = Names.Table("iw_store");
        await db.ExecuteAsync($"CREATE SCHEMA {schema}");

        var run = await ConcurrencyTests.Sequences.Cli.RunAsync("idempotency", "purge", "--connection", db.ConnectionString, "--schema", schema);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith(
            $"iw: error: the idempotency key store {schema}.idempotency_keys does not exist; create it first with: iw idempotency migrate --schema {schema} --connection ",
            run.Error,
            StringComparison.Ordinal);
        Assert.DoesNotContain("42P01", run.Error, StringComparison.Ordinal);
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests;

public sealed class Ledger
{
    public long Id { get; set; }

    public string K { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;
}

public sealed class MoodRow
{
    public long Id { get; set; }

    public string K { get; set; } = string.Empty;

    public Mood Mood { get; set; }
}

// Schemas as applications have them: least-privilege roles (table- and column-level grants, row-level security),
// triggers that rewrite keys, deferred constraints, caller transactions that must survive a cancellation.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class RealSchemaTests(PostgresFixture db)
{
    [Fact]
    public async Task AppendOnlyRole_InsertOrGetAndInsertMany_Work_UpsertNamesMissingGrant()
    {
        var (table, connectionString) = await TableWithRoleAsync(role => $"GRANT SELECT, INSERT ON {{0}} TO \"{role}\"");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddIdempotentWrites(o => o.ConnectionString = connectionString)
            .MapTable<Ledger>(table, t => t.ConflictOn(l => l.K).Generated(l => l.Id));
        using var host = builder.Build();
        await host.StartAsync(); // the startup check asks only for what insert-or-get needs
        var writer = host.Services.GetRequiredService<IIdempotentWriter>();

        var first = await writer.InsertOrGetAsync(new Ledger { K = "a", Name = "one" });
        var again = await writer.InsertOrGetAsync(new Ledger { K = "a", Name = "two" });
        var bulk = await writer.InsertManyAsync([new Ledger { K = "a", Name = "x" }, new Ledger { K = "b", Name = "y" }]);
        var upsert = await Assert.ThrowsAsync<TableMappingException>(() => writer.UpsertAsync(new Ledger { K = "a", Name = "three" }));
        await host.StopAsync();

        Assert.Equal(WriteOutcome.Inserted, first.Outcome);
        Assert.Equal(WriteOutcome.Existing, again.Outcome);
        Assert.Equal(first.Row.Id, again.Row.Id);
        Assert.Equal(1L, bulk.Inserted);
        Assert.Contains($"GRANT UPDATE (\"name\") ON \"public\".\"{table}\" TO", upsert.Message, StringComparison.Ordinal);
        Assert.False(upsert.IsTransient);
        Assert.Equal("one", await db.ScalarAsync<string>($"SELECT name FROM {table} WHERE k = 'a'"));
    }

    [Fact]
    public async Task ColumnLevelGrants_UpsertWithoutXmax_ReportsInsertedUpdatedUnchanged()
    {
        var (table, connectionString) = await TableWithRoleAsync(role => $"GRANT SELECT (id, k, name), INSERT (k, name), UPDATE (name) ON {{0}} TO \"{role}\"");
        await using var writer = TestWriter.Create(connectionString, b => b.MapTable<Ledger>(table, t => t.ConflictOn(l => l.K).Generated(l => l.Id)));

        var inserted = await writer.Writer.UpsertAsync(new Ledger { K = "a", Name = "one" });
        var updated = await writer.Writer.UpsertAsync(new Ledger { K = "a", Name = "two" });
        var unchanged = await writer.Writer.UpsertAsync(new Ledger { K = "a", Name = "two" });
        var existing = await writer.Writer.InsertOrGetAsync(new Ledger { K = "a", Name = "three" });

        Assert.Equal([WriteOutcome.Inserted, WriteOutcome.Updated, WriteOutcome.Unchanged, WriteOutcome.Existing], [inserted.Outcome, updated.Outcome, unchanged.Outcome, existing.Outcome]);
        Assert.Equal(inserted.Row.Id, unchanged.Row.Id);
        Assert.Equal("two", existing.Row.Name);
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task RoleWithoutInsertGrant_StartupNamesTheGrant()
    {
        var (table, connectionString) = await TableWithRoleAsync(role => $"GRANT SELECT ON {{0}} TO \"{role}\"");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddIdempotentWrites(o => o.ConnectionString = connectionString)
            .MapTable<Ledger>(table, t => t.ConflictOn(l => l.K).Generated(l => l.Id));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<TableMappingException>(() => host.StartAsync());

        Assert.Contains($"GRANT INSERT (\"k\", \"name\") ON \"public\".\"{table}\" TO", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RowLevelSecurityHidesConflictingRow_NonTransientErrorNamingRls_NoPipelineRetries()
    {
        var (table, connectionString) = await TableWithRoleAsync(role => $$"""
            GRANT SELECT, INSERT ON {0} TO "{{role}}";
            ALTER TABLE {0} ENABLE ROW LEVEL SECURITY;
            CREATE POLICY visible ON {0} FOR SELECT USING (name <> 'hidden');
            CREATE POLICY writable ON {0} FOR INSERT WITH CHECK (true);
            """);
        await db.ExecuteAsync($"INSERT INTO {table} (k, name) VALUES ('a', 'hidden')");
        await using var writer = TestWriter.Create(connectionString, b => b.MapTable<Ledger>(table, t => t.ConflictOn(l => l.K).Generated(l => l.Id)));
        var before = await db.ScalarAsync<long>($"SELECT last_value FROM pg_sequences WHERE sequencename = '{table}_id_seq'");

        var error = await Assert.ThrowsAsync<ConflictingRowNotFoundException>(() => writer.Writer.InsertOrGetAsync(new Ledger { K = "a", Name = "mine" }));

        Assert.False(error.IsTransient);
        Assert.Equal(2, error.Attempts);
        Assert.Contains("row-level security", error.Message, StringComparison.Ordinal);

        // Two attempts, each burning one identity value; no resilience-pipeline retries on top.
        Assert.Equal(before + 2, await db.ScalarAsync<long>($"SELECT last_value FROM pg_sequences WHERE sequencename = '{table}_id_seq'"));
    }

    [Fact]
    public async Task BeforeInsertTriggerRewritesKey_SecondCallFailsOnceNamingTrigger_NotRetried()
    {
        var table = Names.Table("upper_keys");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL UNIQUE, name text NOT NULL);
            CREATE FUNCTION {table}_upper() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.k := upper(NEW.k); RETURN NEW; END $$;
            CREATE TRIGGER {table}_upper_k BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_upper();
            """);
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Ledger>(table, t => t.ConflictOn(l => l.K).Generated(l => l.Id)));

        var first = await writer.Writer.InsertOrGetAsync(new Ledger { K = "abc", Name = "one" });
        var error = await Assert.ThrowsAsync<ConflictingRowNotFoundException>(() => writer.Writer.InsertOrGetAsync(new Ledger { K = "abc", Name = "two" }));

        Assert.Equal("ABC", first.Row.K);
        Assert.False(error.IsTransient);
        Assert.Contains($"BEFORE INSERT trigger ({table}_upper_k)", error.Message, StringComparison.Ordinal);
        Assert.Equal(3L, await db.ScalarAsync<long>($"SELECT last_value FROM pg_sequences WHERE sequencename = '{table}_id_seq'"));
    }

    [Fact]
    public async Task ExecuteInTransaction_DeferredUniqueViolationAtCommit_IsTyped()
    {
        var table = Names.Table("deferred_commit");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, k text NOT NULL CONSTRAINT {table}_k UNIQUE DEFERRABLE INITIALLY DEFERRED)");
        await using var writer = TestWriter.Create(db.ConnectionString, _ => { });

        var error = await Assert.ThrowsAsync<UniqueViolationException>(() => writer.Writer.ExecuteInTransactionAsync(async (transaction, ct) =>
        {
            await using var command = new NpgsqlCommand($"INSERT INTO {table} (k) VALUES ('a'), ('a')", transaction.Connection!, transaction);
            return await command.ExecuteNonQueryAsync(ct);
        }));

        Assert.Equal($"{table}_k", error.ConstraintName);
        Assert.Equal(["k"], error.Columns);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task CancelledInsideCallerTransaction_TransactionStaysUsable()
    {
        var table = Names.Table("slow_insert");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL UNIQUE, name text NOT NULL);
            CREATE FUNCTION {table}_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'slow' THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
            CREATE TRIGGER {table}_slow BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_slow();
            """);
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Ledger>(table, t => t.ConflictOn(l => l.K).Generated(l => l.Id)));
        await writer.Writer.InsertOrGetAsync(new Ledger { K = "warm", Name = "plan resolved" });
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        using var cancel = new CancellationTokenSource();

        var slow = writer.Writer.InsertOrGetAsync(new Ledger { K = "s", Name = "slow" }, transaction, cancel.Token);
        await Waits.UntilBackendWaitsAsync(db.DataSource, "PgSleep");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow.WaitAsync(Waits.Timeout));
        var after = await writer.Writer.InsertOrGetAsync(new Ledger { K = "t", Name = "fine" }, transaction);
        await transaction.CommitAsync();

        Assert.Equal(WriteOutcome.Inserted, after.Outcome);
        Assert.Equal(["t", "warm"], await KeysAsync(table));
    }

    [Fact]
    public async Task InsertAsyncInCallerTransaction_DuplicateIsTypedAndTransactionContinues()
    {
        var table = Names.Table("tx_insert");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL UNIQUE, name text NOT NULL)");
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Ledger>(table, t => t.ConflictOn(l => l.K).Generated(l => l.Id)));
        await using var connection = await db.DataSource.OpenConnectionAsync();

        await using (var rolledBack = await connection.BeginTransactionAsync())
        {
            await writer.Writer.InsertAsync(new Ledger { K = "gone", Name = "x" }, rolledBack);
            await rolledBack.RollbackAsync();
        }

        await using var transaction = await connection.BeginTransactionAsync();
        var inserted = await writer.Writer.InsertAsync(new Ledger { K = "a", Name = "x" }, transaction);
        var duplicate = await Assert.ThrowsAsync<UniqueViolationException>(() => writer.Writer.InsertAsync(new Ledger { K = "a", Name = "y" }, transaction));
        await writer.Writer.InsertAsync(new Ledger { K = "b", Name = "z" }, transaction);
        await transaction.CommitAsync();

        Assert.True(inserted.Id > 0);
        Assert.Equal(["k"], duplicate.Columns);
        Assert.Equal(["a", "b"], await KeysAsync(table));
    }

    [Fact]
    public async Task StoredValueTheTypeCannotHold_UnreadableRowExceptionCarriesKeyAndId_NotRetried()
    {
        var type = Names.Table("feeling");
        var table = Names.Table("feelings");
        await db.ExecuteAsync($"""
            CREATE TYPE {type} AS ENUM ('happy', 'sad', 'very_happy');
            CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL UNIQUE, mood {type} NOT NULL);
            """);
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<MoodRow>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)));
        await writer.Writer.InsertOrGetAsync(new MoodRow { K = "warm", Mood = Mood.Sad });

        // The enum gains a label after the mapping was checked, and a row holds it.
        await db.ExecuteAsync($"ALTER TYPE {type} ADD VALUE 'angry'");
        await db.ExecuteAsync($"INSERT INTO {table} (k, mood) VALUES ('a', 'angry')");
        var id = await db.ScalarAsync<long>($"SELECT id FROM {table} WHERE k = 'a'");

        var error = await Assert.ThrowsAsync<UnreadableRowException>(() => writer.Writer.InsertOrGetAsync(new MoodRow { K = "a", Mood = Mood.Happy }));

        Assert.Equal(WriteOutcome.Existing, error.Outcome);
        Assert.Equal("mood", error.ColumnName);
        Assert.Equal("a", error.Key!["k"]);
        Assert.Equal(id, error.StoredValues["id"]);
        Assert.False(error.IsTransient);
        Assert.Contains("do not retry", error.Message, StringComparison.Ordinal);
    }

    private async Task<List<string>> KeysAsync(string table)
    {
        var keys = new List<string>();
        await using var command = db.DataSource.CreateCommand($"SELECT k FROM {table} ORDER BY k");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    // A ledger table and a login role with the given grants ({0} is the table); returns the role's connection string.
    private async Task<(string Table, string ConnectionString)> TableWithRoleAsync(Func<string, string> grants)
    {
        var table = Names.Table("ledger");
        var role = table + "_app";
        var password = Guid.NewGuid().ToString("N");
        await db.ExecuteAsync($"""
            CREATE ROLE "{role}" LOGIN PASSWORD '{password}';
            CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL UNIQUE, name text NOT NULL);
            {string.Format(System.Globalization.CultureInfo.InvariantCulture, grants(role), table)}
            """);
        return (table, db.ConnectionStringWith(b =>
        {
            b.Username = role;
            b.Password = password;
        }));
    }
}

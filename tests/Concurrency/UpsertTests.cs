// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.ConcurrencyTests;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class UpsertTests(PostgresFixture db)
{
    [Fact]
    public async Task Upsert_InsertedUpdatedUnchanged_RowAsStoredAndNoDeadTupleWhenUnchanged()
    {
        var table = Names.Table("upsert_users");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt)));

        var inserted = await writer.Writer.UpsertAsync(new User { Email = "u@x", Name = "one" });
        var xminBefore = await db.ScalarAsync<string>($"SELECT xmin::text FROM {table} WHERE email = 'u@x'");
        var unchanged = await writer.Writer.UpsertAsync(new User { Email = "u@x", Name = "one" });
        var xminAfterUnchanged = await db.ScalarAsync<string>($"SELECT xmin::text FROM {table} WHERE email = 'u@x'");
        var updated = await writer.Writer.UpsertAsync(new User { Email = "u@x", Name = "two" });

        Assert.Equal(WriteOutcome.Inserted, inserted.Outcome);
        Assert.Equal(WriteOutcome.Unchanged, unchanged.Outcome);
        Assert.Equal(WriteOutcome.Updated, updated.Outcome);
        Assert.Equal(xminBefore, xminAfterUnchanged);
        Assert.Equal(inserted.Row.Id, updated.Row.Id);
        Assert.Equal(inserted.Row.CreatedAt, updated.Row.CreatedAt);
        Assert.Equal("two", updated.Row.Name);
    }

    [Fact]
    public async Task Upsert_32CallersSameKeyDifferentValues_OneInsertedRestUpdatedOrUnchanged_LastWriteStored()
    {
        const int Callers = 32;
        var table = Names.Table("upsert_race");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt)));
        _ = await writer.Writer.UpsertAsync(new User { Email = "warm", Name = "w" });

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            return await writer.Writer.UpsertAsync(new User { Email = "hot", Name = $"v{i % 4}" });
        })).ToArray();
        gate.SetResult();
        var results = await Task.WhenAll(calls).WaitAsync(Waits.Timeout);

        Assert.Equal(1, results.Count(r => r.Outcome == WriteOutcome.Inserted));
        Assert.Equal(Callers - 1, results.Count(r => r.Outcome is WriteOutcome.Updated or WriteOutcome.Unchanged));
        Assert.Single(results.Select(r => r.Row.Id).Distinct());
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE email = 'hot'"));
    }

    [Fact]
    public async Task Upsert_UpdateOnConflictLimitsColumns_OtherColumnsKept()
    {
        var table = Names.Table("upsert_limited");
        await db.ExecuteAsync($"CREATE TABLE {table} (code text PRIMARY KEY, label text NOT NULL, qty int NOT NULL)");
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Stock>(table, t => t.ConflictOn(s => s.Code).UpdateOnConflict(s => s.Qty)));

        await writer.Writer.UpsertAsync(new Stock { Code = "c", Label = "original", Qty = 1 });
        var updated = await writer.Writer.UpsertAsync(new Stock { Code = "c", Label = "ignored", Qty = 2 });

        Assert.Equal(WriteOutcome.Updated, updated.Outcome);
        Assert.Equal("original", updated.Row.Label);
        Assert.Equal(2, updated.Row.Qty);
    }

    public sealed class Stock
    {
        public string Code { get; set; } = string.Empty;

        public string Label { get; set; } = string.Empty;

        public int Qty { get; set; }
    }
}

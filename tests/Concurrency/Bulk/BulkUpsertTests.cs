// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.ConcurrencyTests.Bulk;

public sealed class Price
{
    public string Sku { get; set; } = string.Empty;

    public decimal Amount { get; set; }

    public string? Currency { get; set; }
}

[Collection(PostgresCollection.Name)]
[Trait("Category", "Bulk")]
public sealed class BulkUpsertTests(PostgresFixture db)
{
    private async Task<(string Table, TestWriter Writer)> CreateAsync()
    {
        var table = Names.Table("bulk_prices");
        await db.ExecuteAsync($"CREATE TABLE {table} (sku text PRIMARY KEY, amount numeric NOT NULL, currency text)");
        await db.ExecuteAsync($"INSERT INTO {table} SELECT 'p' || g, g, 'EUR' FROM generate_series(0, 999) g");
        return (table, TestWriter.Create(db.ConnectionString, b => b.MapTable<Price>(table, t => t.ConflictOn(p => p.Sku))));
    }

    [Fact]
    public async Task UpsertMany_RepeatsInsideAChunk_LastWinsExactCounts()
    {
        var (table, writer) = await CreateAsync();
        await using var _ = writer;

        // p0–p499 unchanged (same values), p500–p999 new amounts, n0–n499 new keys; every n key three times (last wins).
        var rows = new List<Price>();
        rows.AddRange(Enumerable.Range(0, 500).Select(i => new Price { Sku = "p" + i, Amount = i, Currency = "EUR" }));
        rows.AddRange(Enumerable.Range(500, 500).Select(i => new Price { Sku = "p" + i, Amount = i + 0.5m, Currency = "EUR" }));
        for (var round = 1; round <= 3; round++)
        {
            rows.AddRange(Enumerable.Range(0, 500).Select(i => new Price { Sku = "n" + i, Amount = round, Currency = null }));
        }

        var report = await writer.Writer.UpsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 10_000 });

        Assert.Equal((500L, 500L, 500L, 1_000L, 0L), (report.Inserted, report.Updated, report.Unchanged, report.DuplicatesInInput, report.Existing));
        Assert.Equal(2_500L, report.RowsRead);
        Assert.Equal(500L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE sku LIKE 'n%' AND amount = 3 AND currency IS NULL"));
        Assert.Equal(500L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE sku LIKE 'p%' AND amount <> trunc(amount)"));
        Assert.Equal(1_500L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task UpsertMany_KeyRepeatedAcrossChunks_LastValueStoredEveryRowCounted()
    {
        var (table, writer) = await CreateAsync();
        await using var _ = writer;
        var rows = Enumerable.Range(0, 1_000).Select(i => new Price { Sku = "k" + (i % 100), Amount = i, Currency = "USD" }).ToList();

        var report = await writer.Writer.UpsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 150 });

        Assert.Equal(1_000L, report.Inserted + report.Updated + report.Unchanged + report.DuplicatesInInput);
        Assert.Equal(100L, report.Inserted);
        Assert.Equal(100L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE sku LIKE 'k%' AND amount >= 900"));
    }
}

public sealed class Tagged
{
    public Guid Id { get; set; }

    public int[] Tags { get; set; } = [];

    public string Payload { get; set; } = "{}";

    public DateOnly Day { get; set; }

    public short Small { get; set; }
}

[Collection(PostgresCollection.Name)]
[Trait("Category", "Bulk")]
public sealed class BulkTypeTests(PostgresFixture db)
{
    [Fact]
    public async Task InsertMany_ArrayJsonbDateDomainAndWideningColumns_CopiedAsTheColumnsTypes()
    {
        var table = Names.Table("bulk_types");
        await db.ExecuteAsync($"""
            DO $$ BEGIN CREATE DOMAIN positive_small AS smallint CHECK (VALUE > 0); EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            CREATE TABLE {table} (id uuid PRIMARY KEY, tags integer[] NOT NULL, payload jsonb NOT NULL, day date NOT NULL, small positive_small NOT NULL);
            """);
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Tagged>(table, t => t.ConflictOn(x => x.Id)));
        var id = Guid.NewGuid();

        var report = await writer.Writer.InsertManyAsync(
            [new Tagged { Id = id, Tags = [1, 2, 3], Payload = """{"a": 1}""", Day = new DateOnly(2026, 11, 25), Small = 7 }],
            new BulkWriteOptions { ReturnRows = true });

        Assert.Equal(1L, report.Inserted);
        Assert.Equal([1, 2, 3], Assert.Single(report.WrittenRows).Tags);
        Assert.Equal("1|3|2026-11-25|7", await db.ScalarAsync<string>($"SELECT (payload->>'a') || '|' || cardinality(tags) || '|' || day || '|' || small FROM {table} WHERE id = '{id}'"));
    }
}

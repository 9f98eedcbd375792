// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Bulk;

public sealed class Item
{
    public long Id { get; set; }

    public string Sku { get; set; } = string.Empty;

    // int property into a bigint column: the binary COPY writes it as the column's type.
    public int Qty { get; set; }

    public decimal Price { get; set; }

    public Guid Ref { get; set; }

    public DateTimeOffset At { get; set; }

    public string? Note { get; set; }
}

[Collection(PostgresCollection.Name)]
[Trait("Category", "Bulk")]
public sealed class BulkInsertTests(PostgresFixture db, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(2));

    private async Task<string> CreateItemsAsync(string prefix = "bulk_items")
    {
        var table = Names.Table(prefix);
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint PRIMARY KEY, sku text NOT NULL, qty bigint NOT NULL, price numeric(12,2) NOT NULL, ref uuid NOT NULL, at timestamptz NOT NULL, note text)");
        return table;
    }

    private TestWriter Writer(string table) => TestWriter.Create(db.ConnectionString, b => b.MapTable<Item>(table, t => t.ConflictOn(i => i.Id)));

    private static Item NewItem(long id, string note) => new()
    {
        Id = id,
        Sku = "sku-" + id,
        Qty = (int)(id % 1000),
        Price = (id % 10_000) / 100m,
        Ref = new Guid((int)id, 0, 0, new byte[8]),
        At = Epoch.AddSeconds(id),
        Note = note,
    };

    private async Task<Dictionary<long, string?>> NotesAsync(string table)
    {
        var notes = new Dictionary<long, string?>();
        await using var command = db.DataSource.CreateCommand($"SELECT id, note FROM {table}");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            notes[reader.GetInt64(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        return notes;
    }

    [Fact]
    public async Task InsertMany_100kRows30PercentExisting5PercentRepeated_ExactReportAndTable()
    {
        var table = await CreateItemsAsync();

        // 95,000 distinct keys, 30,000 of them stored before the import; 5,000 more input rows repeat keys
        // (2,500 repeat a new key, 2,500 an existing one); shuffled, so repeats fall into other chunks too.
        await db.ExecuteAsync($"INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old-' || g, 1, 1, gen_random_uuid(), now(), 'old' FROM generate_series(0, 29999) g");
        var input = new List<Item>(100_000);
        for (long id = 0; id < 95_000; id++)
        {
            input.Add(NewItem(id, "first"));
        }

        for (var i = 0; i < 2_500; i++)
        {
            input.Add(NewItem(30_000 + (i * 26), "repeat-new"));
            input.Add(NewItem(i * 12, "repeat-existing"));
        }

        var random = new Random(42);
        var rows = input.OrderBy(_ => random.Next()).ToList();

        // The expected table: stored rows untouched, new keys from their first occurrence in input order.
        var expected = Enumerable.Range(0, 30_000).ToDictionary(i => (long)i, _ => (string?)"old");
        foreach (var row in rows)
        {
            expected.TryAdd(row.Id, row.Note);
        }

        await using var writer = Writer(table);
        var progress = new List<BulkWriteReport>();
        var stopwatch = Stopwatch.StartNew();
        var report = await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 10_000, Progress = new SyncProgress<BulkWriteReport>(progress.Add) });
        stopwatch.Stop();

        Assert.Equal(100_000, report.RowsRead);
        Assert.Equal(65_000, report.Inserted);
        Assert.Equal(32_500, report.Existing);
        Assert.Equal(2_500, report.DuplicatesInInput);
        Assert.Equal(10, report.Chunks);
        Assert.Equal(1_000, report.ExistingRows.Count);
        Assert.All(report.ExistingRows, r => Assert.True(r.Id < 30_000));
        Assert.All(report.DuplicateRows, r => Assert.True(r.Id >= 30_000));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i * 10_000L), progress.Select(p => p.RowsRead));
        Assert.Equal(expected, await NotesAsync(table));
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE id = 40123 AND sku = 'sku-40123' AND qty = 123 AND price = 1.23 AND at = '2026-01-01 11:08:43+02' AND ref = '00009cbb-0000-0000-0000-000000000000'"));
        Figures.Record(output, $"bulk insert: 100,000 rows (30% existing, 5% repeated) in {stopwatch.Elapsed.TotalSeconds:0.00} s ({100_000 / stopwatch.Elapsed.TotalSeconds:N0} rows/s, chunks of 10,000)");
    }

    [Fact]
    public async Task InsertMany_ConflictsAfterCleanChunks_PlainInsertRewrittenClassifiedExactReport()
    {
        var table = await CreateItemsAsync();
        await db.ExecuteAsync($"INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old', 1, 1, gen_random_uuid(), now(), 'old' FROM unnest(ARRAY[250, 360, 362]) g");

        // Chunks of 100. 1 and 2 hold new keys only (each looks its keys up first: the first two chunks always do). 3 follows
        // clean chunks: a plain INSERT, which meets the stored key 250 and is written again, classified. 4 follows a chunk that
        // skipped a row, two after a clean one (classified): it repeats key 5 of chunk 1 at position 350, holds the stored keys
        // 360 and 362 and repeats its own key 370 at 371. 5 comes two after a chunk that skipped a row (looks up, finds
        // nothing, writes). 6 follows a clean chunk, two after one with repeats (plain INSERT, which succeeds).
        var rows = Enumerable.Range(0, 600).Select(i => NewItem(i, "first")).ToList();
        rows[350] = NewItem(5, "repeat-earlier-chunk");
        rows[371] = NewItem(370, "repeat-same-chunk");
        var logs = new ListLoggerProvider();
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Item>(table, t => t.ConflictOn(i => i.Id)), logs: logs);

        var report = await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 100, MaxReportedRows = 2 });

        Assert.Equal((600L, 595L, 3L, 2L), (report.RowsRead, report.Inserted, report.Existing, report.DuplicatesInInput));
        Assert.Equal([250L, 360L], report.ExistingRows.Select(r => r.Id));
        Assert.Equal(["repeat-earlier-chunk", "repeat-same-chunk"], report.DuplicateRows.Select(r => r.Note));
        Assert.Equal([3], logs.EventIds(IdempotentWritesEventId.BulkChunkRewritten).Select(e => e.Chunk));
        Assert.Equal(
            ["looked up, plain insert", "looked up, plain insert", "classified", "classified", "looked up, plain insert", "plain insert"],
            logs.Values(IdempotentWritesEventId.BulkChunkCommitted, "Write"));
        var notes = await NotesAsync(table);
        Assert.Equal(598, notes.Count);
        Assert.Equal(("first", "first", "old"), (notes[5], notes[370], notes[250]));
        Assert.False(notes.ContainsKey(350));
        Assert.False(notes.ContainsKey(371));
    }

    [Fact]
    public async Task InsertMany_StoredRowsChangeBetweenLookupAndWrite_ChunkRewrittenClassifiedExactReport()
    {
        var table = await CreateItemsAsync("bulk_probe");
        await db.ExecuteAsync($"INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old', 1, 1, gen_random_uuid(), now(), 'old' FROM unnest(ARRAY[10, 110, 120, 130, 140]) g");
        var logs = new ListLoggerProvider();
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Item>(table, t => t.ConflictOn(i => i.Id)), logs: logs);

        // The import's own advisory lock, held here: chunk 1 waits to write, while chunk 2 stages and looks its keys up (it
        // finds 110, 120, 130 and 140). Then, before chunk 2 writes, another session deletes 110 and updates 120 (a new row
        // version): no key chunk 2 inserts is taken, but its lookup is stale, so it writes nothing and is written again,
        // classified. (A key taken since the lookup fails the plain INSERT: InsertMany_ConflictsAfterCleanChunks….)
        await using var gate = await db.DataSource.OpenConnectionAsync();
        await using var hold = await gate.BeginTransactionAsync();
        await using (var lockCommand = new NpgsqlCommand(
            $"SELECT pg_advisory_xact_lock(1230441217, (to_regclass('{table}')::oid::bigint % 2147483647)::int)", gate, hold))
        {
            await lockCommand.ExecuteNonQueryAsync();
        }

        var import = writer.Writer.InsertManyAsync(
            Enumerable.Range(0, 200).Select(i => NewItem(i, "new")),
            new BulkWriteOptions { ChunkSize = 100 });
        var deadline = Stopwatch.StartNew();
        // Chunk 1 waits on the lock, and chunk 2 has looked up and waits for chunk 1 (idle in its transaction; the lookup's
        // last statement restores a setting).
        while (await db.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2 " +
            "AND classid::bigint = 1230441217 AND objid::bigint = to_regclass($1)::oid::bigint % 2147483647) * " +
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' " +
            "AND query = 'RESET jit')",
            table) == 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "chunk 2 never looked its keys up");
            Assert.False(import.IsCompleted, "the import finished while its lock was held");
            await Task.Delay(20);
        }

        await db.ExecuteAsync($"DELETE FROM {table} WHERE id = 110; UPDATE {table} SET note = 'changed' WHERE id = 120");
        await hold.CommitAsync();
        var report = await import;

        // Stored: 10 (chunk 1), 120, 130, 140 (chunk 2); 110 was deleted before chunk 2 wrote, so chunk 2 inserted it.
        Assert.Equal((200L, 196L, 4L, 0L), (report.RowsRead, report.Inserted, report.Existing, report.DuplicatesInInput));
        Assert.Equal([10L, 120L, 130L, 140L], report.ExistingRows.Select(r => r.Id));
        Assert.Equal([2], logs.EventIds(IdempotentWritesEventId.BulkChunkRewritten).Select(e => e.Chunk));
        Assert.Equal(["looked up, plain insert", "classified"], logs.Values(IdempotentWritesEventId.BulkChunkCommitted, "Write"));
        var notes = await NotesAsync(table);
        Assert.Equal(200, notes.Count);
        Assert.Equal(("old", "new", "changed", "old", "new"), (notes[10], notes[110], notes[120], notes[130], notes[150]));
    }

    [Fact]
    public async Task InsertMany_StoredKeysInEveryChunk_LooksUpFirstNeverRewrites()
    {
        var table = await CreateItemsAsync("bulk_probe_clean");
        await db.ExecuteAsync($"INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old', 1, 1, gen_random_uuid(), now(), 'old' FROM generate_series(0, 999, 3) g");
        var logs = new ListLoggerProvider();
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Item>(table, t => t.ConflictOn(i => i.Id)), logs: logs);

        var report = await writer.Writer.InsertManyAsync(Enumerable.Range(0, 1000).Select(i => NewItem(i, "new")), new BulkWriteOptions { ChunkSize = 100 });

        Assert.Equal((1000L, 666L, 334L, 0L, 10), (report.RowsRead, report.Inserted, report.Existing, report.DuplicatesInInput, report.Chunks));
        Assert.Empty(logs.EventIds(IdempotentWritesEventId.BulkChunkRewritten));
        Assert.All(logs.Values(IdempotentWritesEventId.BulkChunkCommitted, "Write"), w => Assert.Equal("looked up, plain insert", w));
        Assert.Equal(334L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE note = 'old'"));
        Assert.Equal(1000L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_TriggerSkipsARowOfAPlainInsertChunk_EveryRowStillCounted()
    {
        var table = await CreateItemsAsync("bulk_trigger");
        await db.ExecuteAsync($"""
            CREATE FUNCTION {table}_skip() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.id = 150 THEN RETURN NULL; END IF; RETURN NEW; END $$;
            CREATE TRIGGER {table}_skip BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_skip();
            """);
        await using var writer = Writer(table);

        // Chunk 2 follows a clean chunk: its plain INSERT writes 99 of 100 rows, so it is written again, classified.
        var report = await writer.Writer.InsertManyAsync(Enumerable.Range(0, 200).Select(i => NewItem(i, "x")), new BulkWriteOptions { ChunkSize = 100 });

        Assert.Equal((200L, 199L, 1L, 0L), (report.RowsRead, report.Inserted, report.Existing, report.DuplicatesInInput));
        Assert.Equal(199L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_PartitionedTable_NoLookupExactReport()
    {
        // Two partitions number their rows' ctids on their own: the lookup's check by ctid does not apply, so no chunk looks up.
        var table = Names.Table("bulk_parted");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint PRIMARY KEY, sku text NOT NULL, qty bigint NOT NULL, price numeric(12,2) NOT NULL,
                ref uuid NOT NULL, at timestamptz NOT NULL, note text) PARTITION BY RANGE (id);
            CREATE TABLE {table}_low PARTITION OF {table} FOR VALUES FROM (0) TO (500);
            CREATE TABLE {table}_high PARTITION OF {table} FOR VALUES FROM (500) TO (1000);
            INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old', 1, 1, gen_random_uuid(), now(), 'old' FROM generate_series(0, 999, 3) g;
            """);
        var logs = new ListLoggerProvider();
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Item>(table, t => t.ConflictOn(i => i.Id)), logs: logs);

        var report = await writer.Writer.InsertManyAsync(Enumerable.Range(0, 1000).Select(i => NewItem(i, "new")), new BulkWriteOptions { ChunkSize = 100 });

        Assert.Equal((1000L, 666L, 334L, 0L), (report.RowsRead, report.Inserted, report.Existing, report.DuplicatesInInput));
        Assert.All(logs.Values(IdempotentWritesEventId.BulkChunkCommitted, "Write"), w => Assert.Equal("classified", w));
        Assert.Empty(logs.EventIds(IdempotentWritesEventId.BulkChunkRewritten));
        Assert.Equal(334L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE note = 'old'"));
        Assert.Equal(1000L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_RowLevelSecurity_NoLookupExactReport()
    {
        // Under row-level security a lookup sees only the rows a policy lets the role read, while ON CONFLICT meets every
        // stored key: the writer must not look up (it reads relrowsecurity). The test's role owns the table, so the policies
        // do not filter its rows here: only the choice of write is under test, chunk by chunk.
        var table = await CreateItemsAsync("bulk_rls");
        await db.ExecuteAsync($"""
            INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old', 1, 1, gen_random_uuid(), now(), 'old' FROM generate_series(0, 299, 3) g;
            ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            CREATE POLICY everything ON {table} USING (true);
            """);
        var logs = new ListLoggerProvider();
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Item>(table, t => t.ConflictOn(i => i.Id)), logs: logs);

        var report = await writer.Writer.InsertManyAsync(Enumerable.Range(0, 300).Select(i => NewItem(i, "new")), new BulkWriteOptions { ChunkSize = 100 });

        Assert.Equal((300L, 200L, 100L), (report.RowsRead, report.Inserted, report.Existing));
        Assert.Equal(["classified", "classified", "classified"], logs.Values(IdempotentWritesEventId.BulkChunkCommitted, "Write"));
        Assert.Empty(logs.EventIds(IdempotentWritesEventId.BulkChunkRewritten));
        Assert.Equal(100L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE note = 'old'"));
    }

    [Fact]
    public async Task InsertMany_TriggerChangesAStoredKey_NoLookupTheRowIsInsertedUnderItsNewKey()
    {
        // A BEFORE INSERT trigger moves key 150, which is stored, to 9150. A lookup before the write would find 150 and skip
        // the row; with the trigger, no chunk looks up, and ON CONFLICT meets the key the trigger made (free): inserted.
        var table = await CreateItemsAsync("bulk_trigger_key");
        await db.ExecuteAsync($"""
            INSERT INTO {table} (id, sku, qty, price, ref, at, note) VALUES (150, 'old', 1, 1, gen_random_uuid(), now(), 'old');
            CREATE FUNCTION {table}_move() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.id = 150 THEN NEW.id := 9150; END IF; RETURN NEW; END $$;
            CREATE TRIGGER {table}_move BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_move();
            """);
        var logs = new ListLoggerProvider();
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Item>(table, t => t.ConflictOn(i => i.Id)), logs: logs);

        var report = await writer.Writer.InsertManyAsync(Enumerable.Range(100, 100).Select(i => NewItem(i, "new")), new BulkWriteOptions { ChunkSize = 50 });

        Assert.Equal((100L, 100L, 0L), (report.RowsRead, report.Inserted, report.Existing));
        Assert.DoesNotContain("looked up, plain insert", logs.Values(IdempotentWritesEventId.BulkChunkCommitted, "Write"));
        Assert.Empty(logs.EventIds(IdempotentWritesEventId.BulkChunkRewritten));
        var notes = await NotesAsync(table);
        Assert.Equal(("old", "new"), (notes[150], notes[9150]));
    }

    [Fact]
    public async Task InsertMany_MoreSkippedRowsThanReported_CountsExactFirstRowsInInputOrder()
    {
        var table = await CreateItemsAsync();
        await db.ExecuteAsync($"INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old', 1, 1, gen_random_uuid(), now(), 'old' FROM generate_series(0, 9999, 3) g");
        var random = new Random(7);
        var rows = Enumerable.Range(0, 10_000).Select(i => NewItem(i, "new")).OrderBy(_ => random.Next()).ToList();
        await using var writer = Writer(table);

        var report = await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 3_000, MaxReportedRows = 5 });

        Assert.Equal((6_666L, 3_334L), (report.Inserted, report.Existing));
        Assert.Equal(rows.Where(r => r.Id % 3 == 0).Take(5).Select(r => r.Id), report.ExistingRows.Select(r => r.Id));
    }

    [Fact]
    public async Task InsertMany_SingleTransaction_RepeatsAcrossChunksCountedExactTable()
    {
        var table = await CreateItemsAsync("bulk_single");
        await db.ExecuteAsync($"INSERT INTO {table} (id, sku, qty, price, ref, at, note) SELECT g, 'old', 1, 1, gen_random_uuid(), now(), 'old' FROM generate_series(0, 99) g");
        var rows = Enumerable.Range(0, 1_000).Select(i => NewItem(i, "first")).Concat(Enumerable.Range(0, 300).Select(i => NewItem(i * 3, "repeat"))).ToList();
        await using var writer = Writer(table);
        var progress = new List<BulkWriteReport>();

        var report = await writer.Writer.InsertManyAsync(
            rows,
            new BulkWriteOptions { ChunkSize = 250, SingleTransaction = true, Progress = new SyncProgress<BulkWriteReport>(progress.Add) });

        // Chunks 5 and 6 repeat keys of chunks 1 to 4, written in the same transaction: duplicates, not existing rows.
        Assert.Equal((1_300L, 900L, 134L, 266L, 6), (report.RowsRead, report.Inserted, report.Existing, report.DuplicatesInInput, report.Chunks));
        Assert.Equal(6, progress.Count);
        Assert.Equal(1_000L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE note = 'repeat'"));
    }

    [Fact]
    public async Task InsertMany_SingleTransactionFailsInChunk3_NothingWritten()
    {
        var table = await CreateItemsAsync("bulk_single_fail");
        await db.ExecuteAsync($"ALTER TABLE {table} ADD CONSTRAINT {table}_qty CHECK (qty <> 5000)");
        await using var writer = Writer(table);
        var rows = Enumerable.Range(0, 3_000).Select(i => NewItem(i, "x")).ToList();
        rows[2_500].Qty = 5000;

        var error = await Assert.ThrowsAsync<BulkWriteException>(
            () => writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 1_000, SingleTransaction = true }));

        Assert.Equal((0, 0L, 0L), (error.Report.Chunks, error.Report.RowsRead, error.Report.Inserted));
        Assert.Equal(2_000, error.FirstFailedRow);
        Assert.IsType<CheckViolationException>(error.InnerException);
        Assert.Contains("Nothing was written", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_SameInputTwice_SecondRunInsertsNothingAndReportsEveryRowExisting()
    {
        var table = await CreateItemsAsync();
        var rows = Enumerable.Range(0, 5_000).Select(i => NewItem(i % 4_000, "n" + i)).ToList();
        await using var writer = Writer(table);

        var first = await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 1_500 });
        var second = await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 700 });

        Assert.Equal((4_000L, 0L, 1_000L), (first.Inserted, first.Existing, first.DuplicatesInInput));
        Assert.Equal((0L, 5_000L, 0L), (second.Inserted, second.Existing, second.DuplicatesInInput));
        Assert.Equal(4_000L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_CanceledHalfwayThenRerun_FinalTableEqualsUninterruptedRun()
    {
        var interrupted = await CreateItemsAsync("bulk_cancel");
        var reference = await CreateItemsAsync("bulk_reference");
        var random = new Random(7);
        var rows = Enumerable.Range(0, 20_000).Select(i => NewItem(random.Next(0, 15_000), "v" + i)).ToList();
        await db.ExecuteAsync($"INSERT INTO {interrupted} SELECT g, 's', 0, 0, gen_random_uuid(), now(), 'old' FROM generate_series(0, 999) g; INSERT INTO {reference} SELECT * FROM {interrupted}");

        await using (var writer = Writer(reference))
        {
            await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 2_000 });
        }

        await using (var writer = Writer(interrupted))
        {
            using var cancel = new CancellationTokenSource();
            var options = new BulkWriteOptions
            {
                ChunkSize = 2_000,
                Progress = new SyncProgress<BulkWriteReport>(p =>
                {
                    if (p.Chunks == 5)
                    {
                        cancel.Cancel();
                    }
                }),
            };

            var canceled = await Assert.ThrowsAsync<BulkWriteCanceledException>(() => writer.Writer.InsertManyAsync(rows, options, cancel.Token));
            Assert.Equal(5, canceled.Report.Chunks);
            Assert.Equal(10_000, canceled.Report.RowsRead);
            var afterCancel = await db.ScalarAsync<long>($"SELECT count(*) FROM {interrupted}");
            Assert.Equal(1_000 + canceled.Report.Inserted, afterCancel);

            var rerun = await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 3_000 });
            Assert.Equal(20_000, rerun.RowsRead);
        }

        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM ((TABLE {interrupted} EXCEPT TABLE {reference}) UNION ALL (TABLE {reference} EXCEPT TABLE {interrupted})) d"));
        Assert.Equal(await db.ScalarAsync<long>($"SELECT count(*) FROM {reference}"), await db.ScalarAsync<long>($"SELECT count(*) FROM {interrupted}"));
    }

    [Fact]
    public async Task InsertMany_TwoConcurrentImportsOverlappingInOppositeOrders_NoDeadlockExactTable()
    {
        var table = await CreateItemsAsync("bulk_concurrent");
        var ascending = Enumerable.Range(0, 40_000).Select(i => NewItem(i, "a")).ToList();
        var descending = Enumerable.Range(20_000, 40_000).Reverse().Select(i => NewItem(i, "b")).ToList();
        await using var writerA = Writer(table);
        await using var writerB = Writer(table);

        for (var round = 0; round < 3; round++)
        {
            await db.ExecuteAsync($"TRUNCATE {table}");
            var options = new BulkWriteOptions { ChunkSize = 5_000 };
            var a = Task.Run(() => writerA.Writer.InsertManyAsync(ascending, options));
            var b = Task.Run(() => writerB.Writer.InsertManyAsync(descending, options));
            var reports = await Task.WhenAll(a, b).WaitAsync(Waits.Timeout);

            Assert.Equal(60_000L, reports.Sum(r => r.Inserted));
            Assert.Equal(20_000L, reports.Sum(r => r.Existing));
            Assert.Equal(0L, reports.Sum(r => r.DuplicatesInInput));
            Assert.Equal(60_000L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
            Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE (id < 20000 AND note <> 'a') OR (id >= 40000 AND note <> 'b')"));
        }
    }

    [Fact]
    public async Task InsertMany_ExplicitIdsIntoIdentity_NextDefaultInsertSucceeds()
    {
        var table = Names.Table("bulk_identity");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, sku text NOT NULL, qty bigint NOT NULL, price numeric NOT NULL, ref uuid NOT NULL, at timestamptz NOT NULL, note text)");
        await using var writer = Writer(table);

        var report = await writer.Writer.InsertManyAsync(Enumerable.Range(1, 1_000).Select(i => NewItem(i, null!)));

        Assert.Equal(1, report.SequencesSynchronized);
        Assert.Equal(1_001L, await db.ScalarAsync<long>($"INSERT INTO {table} (sku, qty, price, ref, at) VALUES ('next', 0, 0, gen_random_uuid(), now()) RETURNING id"));
    }

    [Fact]
    public async Task InsertMany_ExplicitIdsWithoutSynchronizing_NextDefaultInsertCollides()
    {
        // The control for the test above: without the synchronisation the sequence is behind the imported ids.
        var table = Names.Table("bulk_identity_off");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, sku text NOT NULL, qty bigint NOT NULL, price numeric NOT NULL, ref uuid NOT NULL, at timestamptz NOT NULL, note text)");
        await using var writer = Writer(table);

        var report = await writer.Writer.InsertManyAsync(Enumerable.Range(1, 10).Select(i => NewItem(i, "x")), new BulkWriteOptions { SynchronizeSequences = false });

        Assert.Equal(0, report.SequencesSynchronized);
        var error = await Assert.ThrowsAsync<PostgresException>(() => db.ScalarAsync<long>($"INSERT INTO {table} (sku, qty, price, ref, at) VALUES ('next', 0, 0, gen_random_uuid(), now()) RETURNING id"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
    }

    [Fact]
    public async Task InsertMany_ChunkViolatesAnotherConstraint_EarlierChunksCommittedFailedChunkWhollyRolledBack()
    {
        var table = await CreateItemsAsync("bulk_fail");
        await db.ExecuteAsync($"ALTER TABLE {table} ADD CONSTRAINT {table}_qty CHECK (qty <> 5000)");
        await using var writer = Writer(table);
        var rows = Enumerable.Range(0, 3_000).Select(i => NewItem(i, "x")).ToList();
        rows[2_500].Qty = 5000;

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 1_000 }));

        Assert.Equal(2, error.Report.Chunks);
        Assert.Equal(2_000, error.FirstFailedRow);
        Assert.IsType<CheckViolationException>(error.InnerException);
        Assert.Contains("rolled back", error.Message, StringComparison.Ordinal);
        Assert.Equal(2_000L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(1_999L, await db.ScalarAsync<long>($"SELECT max(id) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_DuplicateOnAnotherUniqueConstraint_TypedUniqueViolationNamingIt()
    {
        var table = await CreateItemsAsync("bulk_unique");
        await db.ExecuteAsync($"CREATE UNIQUE INDEX {table}_sku ON {table} (sku)");
        await using var writer = Writer(table);
        var rows = Enumerable.Range(0, 300).Select(i => NewItem(i, "x")).ToList();
        rows[250].Sku = rows[10].Sku;

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 200 }));

        var violation = Assert.IsType<UniqueViolationException>(error.InnerException);
        Assert.Equal($"{table}_sku", violation.ConstraintName);
        Assert.Equal(["sku"], violation.Columns);
        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
        Assert.Equal(1, error.Report.Chunks);
        Assert.Equal(200L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_NullRowInInput_TypedErrorAndNothingOfThatChunkWritten()
    {
        var table = await CreateItemsAsync("bulk_null");
        await using var writer = Writer(table);
        var rows = Enumerable.Range(0, 250).Select(i => i == 180 ? null! : NewItem(i, "x"));

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 100 }));

        Assert.IsType<ArgumentException>(error.InnerException);
        Assert.Contains("position 180", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Report.Chunks);
        Assert.Equal(100L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_ReturnRows_ReportsStoredRowsWithGeneratedColumns()
    {
        var table = Names.Table("bulk_returning");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now()); INSERT INTO {table} (email, name) VALUES ('a@x', 'old')");
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt)));

        var report = await writer.Writer.InsertManyAsync(
            [new User { Email = "a@x", Name = "new" }, new User { Email = "b@x", Name = "b" }, new User { Email = "c@x", Name = "c" }, new User { Email = "b@x", Name = "again" }],
            new BulkWriteOptions { ReturnRows = true });

        Assert.Equal((2L, 1L, 1L), (report.Inserted, report.Existing, report.DuplicatesInInput));
        Assert.Equal(["b@x", "c@x"], report.WrittenRows.Select(u => u.Email).Order());
        Assert.All(report.WrittenRows, u => Assert.True(u.Id > 1 && u.CreatedAt > DateTimeOffset.UnixEpoch));
        Assert.Equal("a@x", Assert.Single(report.ExistingRows).Email);
        Assert.Equal("again", Assert.Single(report.DuplicateRows).Name);
    }

    [Fact]
    public async Task InsertMany_ExpressionArbiter_DuplicatesDifferingInCaseAreOneKey()
    {
        var table = Names.Table("bulk_lower");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, email text NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now()); CREATE UNIQUE INDEX ON {table} (lower(email)); INSERT INTO {table} (email, name) VALUES ('Old@X', 'old')");
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<User>(table, t => t.ConflictOnExpressions("lower(email)").Generated(u => u.Id, u => u.CreatedAt)));

        var report = await writer.Writer.InsertManyAsync([new User { Email = "old@x", Name = "n" }, new User { Email = "A@x", Name = "1" }, new User { Email = "a@X", Name = "2" }]);

        Assert.Equal((1L, 1L, 1L), (report.Inserted, report.Existing, report.DuplicatesInInput));
        Assert.Equal("1", await db.ScalarAsync<string>($"SELECT name FROM {table} WHERE lower(email) = 'a@x'"));
    }

    [Fact]
    public async Task PreviewConflicts_CountsWhatAnInsertWouldDo_WritesNothing()
    {
        var table = await CreateItemsAsync("bulk_preview");
        await db.ExecuteAsync($"INSERT INTO {table} SELECT g, 's', 0, 0, gen_random_uuid(), now(), 'old' FROM generate_series(0, 99) g");
        var rows = Enumerable.Range(50, 200).Select(i => NewItem(i, "x")).Concat(Enumerable.Range(60, 10).Select(i => NewItem(i, "again"))).Concat(Enumerable.Range(200, 10).Select(i => NewItem(i, "again"))).ToList();
        await using var writer = Writer(table);

        var preview = await writer.Writer.PreviewConflictsAsync(rows, new BulkWriteOptions { ChunkSize = 64 });
        Assert.Equal(100L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        var actual = await writer.Writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 64 });

        Assert.True(preview.IsPreview);
        Assert.Equal((150L, 60L, 10L), (preview.Inserted, preview.Existing, preview.DuplicatesInInput));
        Assert.Equal((actual.Inserted, actual.Existing, actual.DuplicatesInInput), (preview.Inserted, preview.Existing, preview.DuplicatesInInput));
        Assert.Equal(Enumerable.Range(50, 50), preview.ExistingRows.Take(50).Select(r => (int)r.Id));
    }

    [Fact]
    public async Task InsertMany_AsyncStream_ChunkedWithBoundedBuffering()
    {
        var table = await CreateItemsAsync("bulk_stream");
        await using var writer = Writer(table);
        var produced = 0;
        var maxAhead = 0L;
        var committed = 0L;
        var overlapped = false;

        async IAsyncEnumerable<Item> Stream()
        {
            for (var i = 0; i < 12_345; i++)
            {
                if (i == 1_500)
                {
                    // The second chunk is being read: the first one commits meanwhile (it would never, read one after the other).
                    var waited = Stopwatch.StartNew();
                    while (Interlocked.Read(ref committed) < 1_000 && waited.Elapsed < TimeSpan.FromSeconds(30))
                    {
                        await Task.Delay(10);
                    }

                    overlapped = Interlocked.Read(ref committed) >= 1_000;
                }

                produced++;
                maxAhead = Math.Max(maxAhead, produced - Interlocked.Read(ref committed));
                await Task.Yield();
                yield return NewItem(i, "s");
            }
        }

        var report = await writer.Writer.InsertManyAsync(Stream(), new BulkWriteOptions { ChunkSize = 1_000, Progress = new SyncProgress<BulkWriteReport>(p => Interlocked.Exchange(ref committed, p.RowsRead)) });

        Assert.Equal(12_345L, report.Inserted);
        Assert.Equal(13, report.Chunks);
        // One chunk writes while the next is read and staged: never more than two chunks ahead of the committed ones.
        Assert.True(maxAhead <= 2_000, $"the importer read {maxAhead} rows ahead of the committed chunks");
        Assert.True(overlapped, "the first chunk did not commit while the second was being read");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public async Task InsertMany_ChunkSizeOutOfRange_ArgumentErrorNamingTheOption(int chunkSize)
    {
        var table = await CreateItemsAsync("bulk_options");
        await using var writer = Writer(table);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => writer.Writer.InsertManyAsync([NewItem(1, "x")], new BulkWriteOptions { ChunkSize = chunkSize }));

        Assert.Contains("BulkWriteOptions.ChunkSize", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }
}

// IProgress that reports synchronously on the caller's thread (Progress<T> posts to the thread pool).
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

// Keeps every log entry (event id and state) in memory, for tests that check which events a run raised.
public sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(int EventId, IReadOnlyList<KeyValuePair<string, object?>> State)> _entries = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(int EventId, Exception Exception)> _exceptions = new();

    // The exceptions logged with that event id.
    public IReadOnlyList<Exception> Exceptions(int eventId) => [.. _exceptions.Where(e => e.EventId == eventId).Select(e => e.Exception)];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    // The value of one field of each entry with that event id, in the order they were logged.
    public IEnumerable<object?> Values(int eventId, string field)
        => _entries.Where(e => e.EventId == eventId).Select(e => e.State.First(kv => kv.Key == field).Value);

    // The Chunk value of each entry with that event id, in the order they were logged.
    public IEnumerable<(int EventId, int Chunk)> EventIds(int eventId)
        => _entries.Where(e => e.EventId == eventId).Select(e => (e.EventId, (int)e.State.First(kv => kv.Key == "Chunk").Value!));

    public void Dispose()
    {
    }

    private sealed class Logger(ListLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            provider._entries.Enqueue((eventId.Id, state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
            if (exception is not null)
            {
                provider._exceptions.Enqueue((eventId.Id, exception));
            }
        }
    }
}

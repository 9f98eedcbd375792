// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using IdempotentWrites.ConcurrencyTests.Bulk;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests;

public sealed class Tally
{
    public long Id { get; set; }

    public string K { get; set; } = string.Empty;

    public int V { get; set; }
}

public sealed class NumberedTally
{
    public long Id { get; set; }

    public int K { get; set; }

    public int V { get; set; }
}

// IdempotentWritesOptions.CoalesceWrites on real PostgreSQL. Several tests make the queue deterministic: an uncommitted row
// held by another transaction blocks the call that goes out alone (the table's statement in flight), every call made
// meanwhile queues, and committing the blocker sends the queue as one coalesced statement.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class CoalescingTests(PostgresFixture db, ITestOutputHelper output)
{
    // Every coalesced statement that failed (event 1010): outside the poisoned-row test, none may, since the callers
    // written one by one afterwards would hide it.
    private readonly ListLoggerProvider _logs = new();

    private IReadOnlyList<Exception> FailedStatements => _logs.Exceptions(IdempotentWritesEventId.CoalescedStatementFailed);

    [Fact]
    public async Task InsertOrGet_64CallersSameKey_50Rounds_OneRowOneInsertedSameId()
    {
        const int Callers = 64;
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        using var statements = new CoalescedStatements();
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });

        for (var round = 0; round < 50; round++)
        {
            var key = $"same-{round}";
            var results = await RaceAsync(Callers, i => writer.Writer.InsertOrGetAsync(new Tally { K = key, V = i }));

            Assert.Equal(1, results.Count(r => r.Outcome == WriteOutcome.Inserted));
            Assert.Equal(Callers - 1, results.Count(r => r.Outcome == WriteOutcome.Existing));
            Assert.Single(results.Select(r => (r.Row.Id, r.Row.V)).Distinct());
            Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE k = $1", key));
            Assert.Equal(results[0].Row.Id, await db.ScalarAsync<long>($"SELECT id FROM {table} WHERE k = $1", key));
        }

        Assert.True(statements.Rows > 0, "no call was coalesced");
        Assert.Empty(FailedStatements);
    }

    [Fact]
    public async Task InsertOrGet_64CallersDistinctKeys_50Rounds_EveryCallerItsOwnRow()
    {
        const int Callers = 64;
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        using var statements = new CoalescedStatements();
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });

        for (var round = 0; round < 50; round++)
        {
            var results = await RaceAsync(Callers, i => writer.Writer.InsertOrGetAsync(new Tally { K = $"d-{round}-{i}", V = i }));

            for (var i = 0; i < Callers; i++)
            {
                Assert.Equal(WriteOutcome.Inserted, results[i].Outcome);
                Assert.Equal(($"d-{round}-{i}", i), (results[i].Row.K, results[i].Row.V));
            }

            Assert.Equal(Callers, results.Select(r => r.Row.Id).Distinct().Count());
        }

        Assert.Equal((50L * Callers) + 1, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE k <> 'warm' AND k <> 'd-' || split_part(k, '-', 2) || '-' || v"));
        Assert.True(statements.Rows > 0, "no call was coalesced");
        Assert.Empty(FailedStatements);
    }

    [Theory]
    [InlineData(50)]
    [InlineData(95)]
    public async Task InsertOrGet_32CallersHalfOrMostKeysExisting_EveryAnswerTrue_NoStatementFails(int existingPercent)
    {
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        using var statements = new CoalescedStatements();
        await db.ExecuteAsync($"INSERT INTO {table} (k, v) SELECT 'hot-' || g, g FROM generate_series(0, 99) g");
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });

        var fresh = 0;
        var results = new ConcurrentBag<(string Key, WriteResult<Tally> Result)>();
        await Task.WhenAll(Enumerable.Range(0, 32).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            for (var n = 0; n < 100; n++)
            {
                var key = random.Next(100) < existingPercent ? $"hot-{random.Next(100)}" : $"new-{Interlocked.Increment(ref fresh)}";
                results.Add((key, await writer.Writer.InsertOrGetAsync(new Tally { K = key, V = 1000 })));
            }
        }))).WaitAsync(Waits.Timeout);

        Assert.All(results, r => Assert.Equal(r.Key, r.Result.Row.K));
        Assert.All(results.Where(r => r.Key.StartsWith("hot-", StringComparison.Ordinal)), r =>
        {
            Assert.Equal(WriteOutcome.Existing, r.Result.Outcome);
            Assert.Equal(r.Key, $"hot-{r.Result.Row.V}");
        });
        Assert.All(results.Where(r => r.Key.StartsWith("new-", StringComparison.Ordinal)), r => Assert.Equal(WriteOutcome.Inserted, r.Result.Outcome));
        Assert.Equal(101L + fresh, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.True(statements.Rows > 0, "no call was coalesced");
        Assert.Empty(FailedStatements);
    }

    [Fact]
    public async Task PoisonedRowInACoalescedStatement_FailsOnlyItsCaller_WithTheTypedError()
    {
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        using var statements = new CoalescedStatements();
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });

        await using var blocker = await BlockTheCallInFlightAsync(table, writer);
        var calls = Enumerable.Range(0, 30)
            .Select(i => writer.Writer.InsertOrGetAsync(new Tally { K = $"p-{i}", V = i == 17 ? -1 : i }))
            .ToArray();
        await blocker.ReleaseAsync();

        var error = await Assert.ThrowsAsync<CheckViolationException>(() => calls[17]);
        Assert.Equal("tally_v_check", error.ConstraintName);
        for (var i = 0; i < calls.Length; i++)
        {
            if (i != 17)
            {
                var result = await calls[i];
                Assert.Equal((WriteOutcome.Inserted, $"p-{i}", i), (result.Outcome, result.Row.K, result.Row.V));
            }
        }

        Assert.Equal(29L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE k LIKE 'p-%'"));
        Assert.Contains(30, statements.Sizes);
        Assert.IsType<PostgresException>(Assert.Single(FailedStatements));
    }

    [Fact]
    public async Task Telemetry_StatementSpanLinksItsCallers_CallerSpansSayCoalescedWithRows()
    {
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == IdempotentWritesTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using var blocker = await BlockTheCallInFlightAsync(table, writer);
        var calls = Enumerable.Range(0, 5).Select(i => writer.Writer.InsertOrGetAsync(new Tally { K = $"t-{i}", V = i })).ToArray();
        await blocker.ReleaseAsync();
        await Task.WhenAll(calls).WaitAsync(Waits.Timeout);

        var statement = Assert.Single(spans, s => s.DisplayName.StartsWith("coalesced insert_or_get", StringComparison.Ordinal));
        var callers = spans.Where(s => s.GetTagItem("idempotent_writes.coalesced") is true).ToList();
        Assert.Equal(5, callers.Count);
        Assert.All(callers, c => Assert.Equal(5, c.GetTagItem("idempotent_writes.coalesced.rows")));
        Assert.Equal(callers.Select(c => c.SpanId.ToHexString()).Order(), statement.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
        Assert.Equal(default, statement.ParentSpanId);
        Assert.Equal(5, statement.GetTagItem("idempotent_writes.coalesced.rows"));
    }

    [Fact]
    public async Task CancelledWhileQueued_LeavesTheQueue_TheRowIsNeverWritten()
    {
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });

        await using var blocker = await BlockTheCallInFlightAsync(table, writer);
        using var cancel = new CancellationTokenSource();
        var cancelled = writer.Writer.InsertOrGetAsync(new Tally { K = "c-cancelled" }, cancel.Token);
        var kept = writer.Writer.InsertOrGetAsync(new Tally { K = "c-kept" });
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled).WaitAsync(Waits.Timeout);
        await blocker.ReleaseAsync();

        Assert.Equal(WriteOutcome.Inserted, (await kept.WaitAsync(Waits.Timeout)).Outcome);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE k = 'c-cancelled'"));
    }

    [Fact]
    public async Task UpsertDuplicatesInOneQueue_AppliedInArrivalOrder()
    {
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        using var statements = new CoalescedStatements();
        await writer.Writer.UpsertAsync(new Tally { K = "warm" });

        await using var blocker = await BlockTheCallInFlightAsync(table, writer);
        var calls = new[] { 1, 2, 3, 3, 4 }.Select(v => writer.Writer.UpsertAsync(new Tally { K = "u", V = v }))
            .Append(writer.Writer.UpsertAsync(new Tally { K = "other", V = 9 }))
            .ToArray();
        await blocker.ReleaseAsync();
        var results = await Task.WhenAll(calls).WaitAsync(Waits.Timeout);

        Assert.Equal(
            [WriteOutcome.Inserted, WriteOutcome.Updated, WriteOutcome.Updated, WriteOutcome.Unchanged, WriteOutcome.Updated, WriteOutcome.Inserted],
            results.Select(r => r.Outcome));
        Assert.Equal([1, 2, 3, 3, 4, 9], results.Select(r => r.Row.V));
        Assert.Equal(4, await db.ScalarAsync<int>($"SELECT v FROM {table} WHERE k = 'u'"));
        Assert.Contains(6, statements.Sizes);
        Assert.Empty(FailedStatements);
    }

    // New text keys, some asked more than once, and one stored before: the keyed insert (CoalescedPlan.KeyedInsertSql, sent
    // while keys are all but always new) writes the first caller of each key; the later callers of a key get Existing and
    // the same row (an instance of their own), and the stored key is answered by the re-select.
    [Fact]
    public async Task InsertOrGet_NewKeysAskedTwiceInOneStatement_KeyedInsert_OneInsertedPerKey()
    {
        var (table, writer) = await TallyAsync();
        await using var _ = writer;
        await db.ExecuteAsync($"INSERT INTO {table} (k, v) VALUES ('old', 7)");
        using var statements = new CoalescedStatements();
        using var sent = new SentStatements();
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });

        await using var blocker = await BlockTheCallInFlightAsync(table, writer);
        var results = await QueuedBehindAsync(
            blocker,
            () => new[] { "k2", "k1", "k2", "old", "k3", "k1", "k2" }.Select((k, i) => writer.Writer.InsertOrGetAsync(new Tally { K = k, V = i })));

        Assert.Equal(
            [WriteOutcome.Inserted, WriteOutcome.Inserted, WriteOutcome.Existing, WriteOutcome.Existing, WriteOutcome.Inserted,
                WriteOutcome.Existing, WriteOutcome.Existing],
            results.Select(r => r.Outcome));
        Assert.Equal([0, 1, 0, 7, 4, 1, 0], results.Select(r => r.Row.V));
        Assert.Equal([results[0].Row.Id, results[0].Row.Id], [results[2].Row.Id, results[6].Row.Id]);
        Assert.Equal(results[1].Row.Id, results[5].Row.Id);
        Assert.NotSame(results[0].Row, results[2].Row);
        Assert.Equal(6L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Contains(7, statements.Sizes);
        Assert.Contains(sent.Texts, text => text.Contains("AS iw_u(iw_c1, iw_c2) ORDER BY iw_c1 ON CONFLICT", StringComparison.Ordinal));
        Assert.Empty(FailedStatements);
    }

    // The keyed insert with an integer key: the property's int and the column's bigint compare as one value.
    [Fact]
    public async Task InsertOrGet_IntegerKeysAskedTwiceInOneStatement_KeyedInsert_OneInsertedPerKey()
    {
        var table = Names.Table("tally_int");
        await using var writer = await KeyedTallyAsync(table, "bigint", b => b.MapTable<NumberedTally>(table, t => t.ConflictOn(x => x.K).Generated(x => x.Id)));
        using var sent = new SentStatements();
        await writer.Writer.InsertOrGetAsync(new NumberedTally { K = -1 });

        await using var blocker = await BlockTheCallInFlightAsync(table, "0", () => writer.Writer.InsertOrGetAsync(new NumberedTally { K = 0 }));
        var results = await QueuedBehindAsync(
            blocker,
            () => new[] { 20, 10, 20, 10, 30 }.Select((k, i) => writer.Writer.InsertOrGetAsync(new NumberedTally { K = k, V = i })));

        Assert.Equal(
            [WriteOutcome.Inserted, WriteOutcome.Inserted, WriteOutcome.Existing, WriteOutcome.Existing, WriteOutcome.Inserted],
            results.Select(r => r.Outcome));
        Assert.Equal([0, 1, 0, 1, 4], results.Select(r => r.Row.V));
        Assert.Equal(5L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Contains(sent.Texts, text => text.Contains("AS iw_u(iw_c1, iw_c2) ORDER BY iw_c1 ON CONFLICT", StringComparison.Ordinal));
        Assert.Empty(FailedStatements);
    }

    [Fact]
    public async Task KeysComparedAsTheColumnsType_CharN_PaddedTwinsInOneStatement_OneRow()
    {
        var table = Names.Table("tally_char");
        await using var writer = await KeyedTallyAsync(table, "char(8)", b => b.MapTable<Tally>(table, t => t.ConflictOn(x => x.K).Generated(x => x.Id)));
        using var statements = new CoalescedStatements();
        await writer.Writer.InsertOrGetAsync(new Tally { K = "warm" });

        await using var blocker = await BlockTheCallInFlightAsync(table, writer);
        var results = await QueuedBehindAsync(
            blocker,
            () => new[] { "ab", "ab  ", "cd", "ab    " }.Select((k, i) => writer.Writer.InsertOrGetAsync(new Tally { K = k, V = i })));

        Assert.Equal(
            [WriteOutcome.Inserted, WriteOutcome.Existing, WriteOutcome.Inserted, WriteOutcome.Existing],
            results.Select(r => r.Outcome));
        Assert.Equal([0, 0, 2, 0], results.Select(r => r.Row.V));
        Assert.Equal(2L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE k IN ('ab', 'cd')"));
        Assert.Contains(4, statements.Sizes);
        Assert.Empty(FailedStatements);
    }

    [Fact]
    public async Task TwoInstancesCoalescingOppositeKeyOrders_30Seconds_NoDeadlockEveryKeyOnce()
    {
        const int Keys = 200;
        var (table, first) = await TallyAsync();
        await using var _ = first;
        await using var second = Writer(table);
        using var statements = new CoalescedStatements();
        var answers = new ConcurrentDictionary<string, ConcurrentBag<long>>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var calls = 0L;

        Task Worker(IIdempotentWriter writer, bool descending, int worker) => Task.Run(async () =>
        {
            for (var lap = 0; DateTime.UtcNow < until; lap++)
            {
                for (var n = 0; n < Keys && DateTime.UtcNow < until; n++)
                {
                    var key = $"o-{lap}-{(descending ? Keys - 1 - n : n)}";
                    var result = (worker % 2 == 0)
                        ? await writer.InsertOrGetAsync(new Tally { K = key, V = worker })
                        : await writer.UpsertAsync(new Tally { K = key, V = 1 });
                    answers.GetOrAdd(key, _ => []).Add(result.Row.Id);
                    Interlocked.Increment(ref calls);
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Worker(w < 8 ? first.Writer : second.Writer, w >= 8, w)))
            .WaitAsync(TimeSpan.FromSeconds(90));

        Assert.All(answers, a => Assert.Single(a.Value.Distinct()));
        Assert.Equal(answers.Count, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.True(statements.Rows > 0, "no call was coalesced");
        Assert.Empty(FailedStatements);
        Figures.Record(
            output,
            $"coalescing, two instances on opposite key orders for 30 s: {calls} calls, {answers.Count} keys, {statements.Count} coalesced " +
            $"statements carrying {statements.Rows} rows (mean {(double)statements.Rows / Math.Max(1, statements.Count):0.0}), no deadlock");
    }

    private static async Task<WriteResult<Tally>[]> RaceAsync(int callers, Func<int, Task<WriteResult<Tally>>> call)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            return await call(i);
        })).ToArray();
        gate.SetResult();
        return await Task.WhenAll(calls).WaitAsync(Waits.Timeout);
    }

    private async Task<(string Table, TestWriter Writer)> TallyAsync()
    {
        var table = Names.Table("tally");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL UNIQUE,
                v integer NOT NULL CONSTRAINT tally_v_check CHECK (v >= 0))
            """);
        return (table, Writer(table));
    }

    // Makes the calls while the blocker holds the call in flight (so they queue), then releases it: their results.
    private static async Task<TResult[]> QueuedBehindAsync<TResult>(Blocker blocker, Func<IEnumerable<Task<TResult>>> calls)
    {
        var queued = calls().ToArray();
        await blocker.ReleaseAsync();
        return await Task.WhenAll(queued).WaitAsync(Waits.Timeout);
    }

    // A tally table whose key k is of keyType, and a coalescing writer with map.
    private async Task<TestWriter> KeyedTallyAsync(string table, string keyType, Action<IdempotentWritesBuilder> map)
    {
        await db.ExecuteAsync(
            $"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k {keyType} NOT NULL UNIQUE, v integer NOT NULL)");
        return TestWriter.Create(db.ConnectionStringWith(b => b.MaxPoolSize = 100), map, o => o.CoalesceWrites = true, _logs);
    }

    private TestWriter Writer(string table)
        => TestWriter.Create(
            db.ConnectionStringWith(b => b.MaxPoolSize = 100),
            b => b.MapTable<Tally>(table, t => t.ConflictOn(x => x.K).Generated(x => x.Id)),
            o => o.CoalesceWrites = true,
            _logs);

    // The call that goes out alone (nothing for the table in flight), held on a row another transaction inserted and has
    // not committed: every call made meanwhile queues behind it.
    private Task<Blocker> BlockTheCallInFlightAsync(string table, TestWriter writer)
        => BlockTheCallInFlightAsync(table, "'block'", () => writer.Writer.InsertOrGetAsync(new Tally { K = "block" }));

    // blockedKey: the key the other transaction inserts, as SQL; call: the same key written through the writer.
    private async Task<Blocker> BlockTheCallInFlightAsync(string table, string blockedKey, Func<Task> call)
    {
        var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {table} (k, v) VALUES ({blockedKey}, 0)", connection, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var blocked = call();
        await using (var waiting = db.DataSource.CreateCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted"))
        {
            var deadline = DateTime.UtcNow + Waits.Timeout;
            while ((long)(await waiting.ExecuteScalarAsync())! < 1 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }

        return new Blocker(connection, transaction, blocked);
    }

    private sealed class Blocker(NpgsqlConnection connection, NpgsqlTransaction transaction, Task blocked) : IAsyncDisposable
    {
        public async Task ReleaseAsync()
        {
            await transaction.CommitAsync();
            await blocked.WaitAsync(Waits.Timeout);
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    // The coalesced-rows histogram, as an exporter sees it.
    // The SQL of every command and batch Npgsql ran (its "Npgsql" activities' text tags) while this lives.
    private sealed class SentStatements : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<string> _texts = new();

        public SentStatements()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Npgsql",
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    foreach (var (_, value) in activity.TagObjects)
                    {
                        if (value is string text)
                        {
                            _texts.Enqueue(text);
                        }
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyCollection<string> Texts => _texts;

        public void Dispose() => _listener.Dispose();
    }

    private sealed class CoalescedStatements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<int> _sizes = new();

        public CoalescedStatements()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == IdempotentWritesTelemetry.CoalescedRowsHistogram)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, value, _, _) => _sizes.Enqueue(value));
            _listener.Start();
        }

        public IReadOnlyCollection<int> Sizes => _sizes;

        public int Count => _sizes.Count;

        public long Rows => _sizes.Sum(s => (long)s);

        public void Dispose() => _listener.Dispose();
    }
}

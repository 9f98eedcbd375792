// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Sequences;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class ConcurrentRepairTests(PostgresFixture db)
{
    private const int Workers = 4;
    private const int InsertsAfterRepair = 200;

    [Fact]
    public async Task RepairWhileFourWorkersInsertWithDefaults_NoDuplicateKeyAfterwards_SequenceNeverMovesBackwards()
    {
        await using var schema = await TestSchema.CreateAsync(db);
        var table = schema.Q("busy");
        var sequence = schema.Q("busy_id_seq");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, worker int NOT NULL); INSERT INTO {table} (id, worker) SELECT g, -1 FROM generate_series(1, 50000) g;");

        var repaired = 0;
        var warmedUp = 0;
        var allWarm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lateConflicts = new ConcurrentQueue<string>();
        var idsPerWorker = Enumerable.Range(0, Workers).Select(_ => new List<long>()).ToArray();
        var conflictsBeforeRepair = new int[Workers];

        async Task WorkAsync(int worker)
        {
            await using var connection = await db.DataSource.OpenConnectionAsync();
            await using var insert = new NpgsqlCommand($"INSERT INTO {table} (worker) VALUES ($1) RETURNING id", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = worker });
            var insertsAfterRepair = 0;
            for (var attempt = 1; insertsAfterRepair < InsertsAfterRepair; attempt++)
            {
                var startedAfterRepair = Volatile.Read(ref repaired) == 1;
                try
                {
                    idsPerWorker[worker].Add((long)(await insert.ExecuteScalarAsync())!);
                    insertsAfterRepair += startedAfterRepair ? 1 : 0;
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    if (startedAfterRepair)
                    {
                        lateConflicts.Enqueue($"worker {worker}: {ex.MessageText}");
                    }

                    conflictsBeforeRepair[worker]++;
                }

                if (attempt == 20 && Interlocked.Increment(ref warmedUp) == Workers)
                {
                    allWarm.SetResult();
                }
            }
        }

        // Samples the sequence from another connection for as long as the workers run.
        using var stopMonitor = new CancellationTokenSource();
        var observed = new List<long>();
        async Task MonitorAsync()
        {
            await using var connection = await db.DataSource.OpenConnectionAsync();
            await using var read = new NpgsqlCommand($"SELECT last_value FROM {sequence}", connection);
            while (!stopMonitor.IsCancellationRequested)
            {
                observed.Add((long)(await read.ExecuteScalarAsync())!);
            }
        }

        var monitor = Task.Run(MonitorAsync);
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkAsync(w))).ToArray();
        await allWarm.Task.WaitAsync(Waits.Timeout);

        var report = await schema.Doctor(db.DataSource).FixAsync().WaitAsync(Waits.Timeout);
        Volatile.Write(ref repaired, 1);
        await Task.WhenAll(workers).WaitAsync(Waits.Timeout);
        await stopMonitor.CancelAsync();
        await monitor.WaitAsync(Waits.Timeout);

        var repair = Assert.Single(report.Repairs);
        Assert.Equal(SequenceRepairOutcome.Repaired, repair.Outcome);
        Assert.Equal(50_000, repair.DataExtreme);
        Assert.Equal(50_001, repair.NextValueAfter);
        Assert.All(conflictsBeforeRepair, c => Assert.True(c >= 1)); // each worker really hit the drift before the repair
        Assert.Empty(lateConflicts);
        for (var i = 1; i < observed.Count; i++)
        {
            Assert.True(observed[i] >= observed[i - 1], $"the sequence moved backwards: {observed[i - 1]} then {observed[i]}");
        }

        Assert.Contains(observed, v => v < 50_000);
        Assert.Contains(observed, v => v > 50_000);
        foreach (var ids in idsPerWorker)
        {
            Assert.True(ids.Count >= InsertsAfterRepair);
            Assert.Equal(ids.Order(), ids); // every worker's ids strictly increase: never a value handed out twice
            Assert.All(ids, id => Assert.True(id > 50_000));
        }

        var inserted = idsPerWorker.Sum(ids => ids.Count);
        Assert.Equal(50_000L + inserted, await db.ScalarAsync<long>($"SELECT count(DISTINCT id) FROM {table}"));
        Assert.Equal(50_001, idsPerWorker.SelectMany(ids => ids).Min());
    }
}

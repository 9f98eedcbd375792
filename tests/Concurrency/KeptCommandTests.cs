// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace IdempotentWrites.ConcurrencyTests;

public sealed class KeptRow
{
    public long Id { get; set; }

    public string K { get; set; } = string.Empty;

    public int? Qty { get; set; }

    public string? Note { get; set; }

    public DateTimeOffset Placed { get; set; }
}

// Kept commands (KeptCommands): a statement sent alone, or insert-or-get's batch of two, is kept per server backend and
// used again with the next row's values. Every call must still send its own values (also nulls, which take a parameter of another shape), a kept command
// must hold no row's values between calls, and a backend that went away must not break the calls after it.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class KeptCommandTests(PostgresFixture db)
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task KeptCommands_EveryCallSendsItsOwnValues_NullsIncluded_NoValueKeptBetweenCalls()
    {
        var (table, writer) = await WriterAsync("kept", b => b.MaxPoolSize = 2);
        await using var _ = writer;

        // Sequential and then 8 concurrent callers on two connections: fresh keys (the insert), then every key again (the
        // re-select, and select-first once most keys exist), each answer compared with the row that key was written with.
        for (var i = 0; i < 150; i++)
        {
            AssertRow(Row(i), WriteOutcome.Inserted, await writer.Writer.InsertOrGetAsync(Row(i)));
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = 150 + c; i < 550; i += 8)
            {
                AssertRow(Row(i), WriteOutcome.Inserted, await writer.Writer.InsertOrGetAsync(Row(i)));
            }
        })));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = c; i < 550; i += 8)
            {
                var again = Row(i);
                again.Qty = -1;
                again.Note = "other";
                AssertRow(Row(i), WriteOutcome.Existing, await writer.Writer.InsertOrGetAsync(again));
            }
        })));

        Assert.Equal(550L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        var plan = await ((IdempotentWriter)writer.Writer).GetPlanAsync(typeof(KeptRow), CancellationToken.None);
        var kept = plan.InsertOrGetCommands.Kept.Concat(plan.ReselectCommands.Kept).ToList();

        // Kept (so used again: two backends), and holding no row's values.
        Assert.InRange(plan.InsertOrGetCommands.Kept.Count, 1, 2);
        Assert.InRange(plan.ReselectCommands.Kept.Count, 1, 2);
        Assert.All(kept, command =>
        {
            var texts = command.Parameters.OfType<NpgsqlParameter<string>>().ToList();
            Assert.NotEmpty(texts);
            Assert.All(texts, p => Assert.Null(p.TypedValue));
        });
    }

    [Fact]
    public async Task KeptBatches_InsertOrGetInOneRoundTrip_EveryCallSendsItsOwnValues_NoValueKeptBetweenCalls()
    {
        var (table, writer) = await WriterAsync("kept_batch", b => b.MaxPoolSize = 2);
        await using var _ = writer;
        var inner = writer.Services.GetRequiredService<IdempotentWriter>();
        var plan = await inner.GetPlanAsync(typeof(KeptRow), CancellationToken.None);
        inner.StrategyOf(plan).Force(InsertOrGetMode.Batch);

        // INSERT … DO NOTHING and the re-select in one batch: 8 callers on two connections, each key written twice (new,
        // then existing with other values), the answers compared with the row each key was first written with.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = c; i < 400; i += 8)
            {
                AssertRow(Row(i), WriteOutcome.Inserted, await writer.Writer.InsertOrGetAsync(Row(i)));
                var again = Row(i);
                again.Qty = i % 2 == 0 ? null : -1;
                again.Note = "other";
                again.Placed = Start;
                AssertRow(Row(i), WriteOutcome.Existing, await writer.Writer.InsertOrGetAsync(again));
            }
        })));

        Assert.Equal(400L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));

        // Kept (so used again: two backends), and holding no row's values in either statement.
        Assert.InRange(plan.InsertOrGetBatches.Kept.Count, 1, 2);
        Assert.Empty(plan.InsertOrGetCommands.Kept);
        Assert.All(plan.InsertOrGetBatches.Kept, batch =>
        {
            Assert.Equal(2, batch.BatchCommands.Count);
            var texts = batch.BatchCommands.SelectMany<NpgsqlBatchCommand, NpgsqlParameter<string>>(c => c.Parameters.OfType<NpgsqlParameter<string>>()).ToList();
            Assert.NotEmpty(texts);
            Assert.All(texts, p => Assert.Null(p.TypedValue));
        });
    }

    [Fact]
    public async Task KeptCommands_Upsert_EachCallAppliesItsOwnValues()
    {
        var (table, writer) = await WriterAsync("kept_upsert", b => b.MaxPoolSize = 1);
        await using var _ = writer;

        var first = await writer.Writer.UpsertAsync(new KeptRow { K = "a", Qty = 0, Note = "n0", Placed = Start });
        Assert.Equal(WriteOutcome.Inserted, first.Outcome);
        for (var i = 1; i <= 60; i++)
        {
            // Every third call repeats the stored values (Unchanged); the others change them, a null now and then.
            var row = i % 3 == 0
                ? new KeptRow { K = "a", Qty = (i - 1) % 4 == 0 ? null : i - 1, Note = "n" + (i - 1), Placed = Start }
                : new KeptRow { K = "a", Qty = i % 4 == 0 ? null : i, Note = "n" + i, Placed = Start };
            var result = await writer.Writer.UpsertAsync(row);
            Assert.Equal(i % 3 == 0 ? WriteOutcome.Unchanged : WriteOutcome.Updated, result.Outcome);
            Assert.Equal(row.Qty, result.Row.Qty);
            Assert.Equal(row.Note, result.Row.Note);
            Assert.Equal(first.Row.Id, result.Row.Id);
        }
    }

    [Fact]
    public async Task KeptCommand_ItsBackendTerminated_TheNextCallsSucceed()
    {
        var application = Names.Table("kept_terminated");
        var (table, writer) = await WriterAsync("kept_terminated", b =>
        {
            b.MaxPoolSize = 1;
            b.ApplicationName = application;
        });
        await using var _ = writer;
        for (var i = 0; i < 5; i++)
        {
            await writer.Writer.InsertOrGetAsync(new KeptRow { K = "before" + i, Placed = Start });
        }

        Assert.Equal(1, await db.ScalarAsync<int>("SELECT count(pg_catalog.pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = $1", application));

        for (var i = 0; i < 5; i++)
        {
            var result = await writer.Writer.InsertOrGetAsync(new KeptRow { K = "after" + i, Qty = i, Placed = Start });
            Assert.Equal(WriteOutcome.Inserted, result.Outcome);
            Assert.Equal(i, result.Row.Qty);
        }

        Assert.Equal(10L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    // Row i: a null Qty every third row and a null Note every fifth, so kept parameters meet nulls (another shape).
    private static KeptRow Row(int i) => new()
    {
        K = "k" + i,
        Qty = i % 3 == 0 ? null : i,
        Note = i % 5 == 0 ? null : "note " + i,
        Placed = Start.AddMinutes(i),
    };

    // A table of its own and a writer mapping KeptRow to it, on a pool configured by pool.
    private async Task<(string Table, TestWriter Writer)> WriterAsync(string prefix, Action<NpgsqlConnectionStringBuilder> pool)
    {
        var table = await TableAsync(prefix);
        return (table, TestWriter.Create(db.ConnectionStringWith(pool), b => b.MapTable<KeptRow>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id))));
    }

    private async Task<string> TableAsync(string prefix)
    {
        var table = Names.Table(prefix);
        await db.ExecuteAsync(
            $"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL UNIQUE, qty int, " +
            "note text, placed timestamptz NOT NULL)");
        return table;
    }

    private static void AssertRow(KeptRow expected, WriteOutcome outcome, WriteResult<KeptRow> result)
    {
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(expected.K, result.Row.K);
        Assert.Equal(expected.Qty, result.Row.Qty);
        Assert.Equal(expected.Note, result.Row.Note);
        Assert.Equal(expected.Placed, result.Row.Placed);
        Assert.True(result.Row.Id > 0);
    }
}

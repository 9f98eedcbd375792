// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Writing;

// One round trip of a write: one statement, or two in one batch (Then runs only for its result when First returned no
// row); Batches: the batches kept for it outside a transaction (null: always a new one); Fallback: the round trip made
// only when this one returned no row. Built once per plan (WritePlan.RoundTrips), so a call holds one reference to its
// round trips instead of building them: its async frame stays small.
internal sealed class RoundTrip
{
    // Where Build puts each operation's first round trip.
    public const int InsertIndex = 0;
    public const int UpsertIndex = 1;
    public const int InsertOrGetIndex = 2;

    private RoundTrip(Statement first, Statement? then = null, BatchCommands? batches = null, RoundTrip? fallback = null)
    {
        First = first;
        Then = then;
        Batches = batches;
        Fallback = fallback;
    }

    public Statement First { get; }

    public Statement? Then { get; }

    public BatchCommands? Batches { get; }

    public RoundTrip? Fallback { get; }

    // The first round trip of each operation: a plain insert, an upsert (null when there is nothing to update: the upsert
    // is then an insert-or-get), and insert-or-get in each InsertOrGetMode (InsertOrGetIndex + mode).
    // Insert-or-get: INSERT … DO NOTHING and the re-select are two statements of one batch, so under READ COMMITTED the
    // SELECT takes a fresh snapshot and sees a row that a concurrent transaction committed while the INSERT waited on it
    // (a single-statement CTE would not).
    public static RoundTrip?[] Build(WritePlan plan)
    {
        var trips = new RoundTrip?[InsertOrGetIndex + 3];
        trips[InsertIndex] = new(Statement.Insert(plan.InsertSql, plan.InsertCommands));

        var existing = Statement.Reselect(plan, WriteOutcome.Existing);
        var insert = Statement.Insert(plan.InsertOrGetSql, plan.InsertOrGetCommands);
        trips[InsertOrGetIndex + (int)InsertOrGetMode.InsertOnly] = new(insert, fallback: new(existing));
        trips[InsertOrGetIndex + (int)InsertOrGetMode.Batch] = new(insert, existing, plan.InsertOrGetBatches);
        trips[InsertOrGetIndex + (int)InsertOrGetMode.SelectFirst] = new(existing, fallback: new(insert, existing, plan.InsertOrGetBatches));

        if (plan.UpdateSql is { } update)
        {
            // Upsert by a role that cannot read xmax: insert first, and update only when that conflicted (UPDATE and
            // re-select in one round trip): one more round trip on the update path, never a guess.
            trips[UpsertIndex] = new(
                insert,
                fallback: new(new Statement(update, null, WriteOutcome.Updated, false, null), Statement.Reselect(plan, WriteOutcome.Unchanged)));
        }
        else if (plan.UpsertSql is { } upsert)
        {
            // Upsert: the statement alone answers Inserted and Updated (xmax = 0 tells them apart); only Unchanged (the DO
            // UPDATE's WHERE was false, nothing returned) needs the re-select.
            trips[UpsertIndex] = new(
                new Statement(upsert, null, WriteOutcome.Inserted, true, plan.UpsertCommands),
                fallback: new(Statement.Reselect(plan, WriteOutcome.Unchanged)));
        }

        return trips;
    }

    // One statement and the row it returns: Subset selects the parameters it binds (null: every insert column), Outcome is
    // what a returned row means, Xmax that the row ends with the inserted flag (Inserted, else Updated), Commands the
    // commands kept for it when it is sent alone (null: always a new one).
    internal sealed class Statement(string sql, int[]? subset, WriteOutcome outcome, bool xmax, StatementCommands? commands)
    {
        public string Sql { get; } = sql;

        public int[]? Subset { get; } = subset;

        public WriteOutcome Outcome { get; } = outcome;

        public bool Xmax { get; } = xmax;

        public StatementCommands? Commands { get; } = commands;

        public static Statement Insert(string sql, StatementCommands commands) => new(sql, null, WriteOutcome.Inserted, false, commands);

        public static Statement Reselect(WritePlan plan, WriteOutcome outcome)
            => new(plan.ReselectSql, plan.ReselectParameters, outcome, false, plan.ReselectCommands);
    }
}

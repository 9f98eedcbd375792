// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Writing;

// What an insert-or-get on one table sends first.
internal enum InsertOrGetMode
{
    // INSERT … ON CONFLICT DO NOTHING RETURNING alone; the re-select follows in a second round trip only when it returned
    // nothing. One statement on the common path when most keys are new.
    InsertOnly,

    // [SAVEPOINT] INSERT … ON CONFLICT DO NOTHING RETURNING and the re-select in one batch: one round trip either way, at
    // the price of a SELECT the server runs even when the INSERT returned the row.
    Batch,

    // The re-select alone; on a miss, the batch. One index lookup when the key usually exists.
    SelectFirst,
}

// Which statement an insert-or-get on one table sends first, chosen from the table's observed hit rate h (the share of
// calls answered Existing). Per call, the server runs: insert-only I + h × (S + a round trip); batch I + S; select-first
// S + (1 − h) × (I + S). Insert-only beats the batch below h ≈ S / (S + round trip), ~0.3–0.5 locally and lower on a remote
// server, so it is kept below 0.2; select-first beats the batch from ~0.7 locally (pgbench here, 1 client: ~29k SELECT/s
// against ~20k INSERT + SELECT/s) and closer to 1 remotely, so it starts at 0.85. Each switch has a hysteresis band.
//
// Lock-free and approximate on purpose: racing updates of the decayed counter may lose a sample, which only delays a
// switch by a few calls. Every mode is race-safe, so the estimate never affects results, only speed.
internal sealed class InsertOrGetStrategy
{
    // Exponentially decayed hit rate in 16-bit fixed point; each call moves it 1/32 of the way to 0 or 1.
    internal const int One = 1 << 16;
    internal const int DecayShift = 5;

    // Hysteresis: insert-only below 0.2, back to the batch from 0.3; select-first from 0.85, back to the batch below 0.75.
    internal const int LeaveInsertOnly = (int)(One * 0.30);
    internal const int EnterInsertOnly = (int)(One * 0.20);
    internal const int EnterSelectFirst = (int)(One * 0.85);
    internal const int LeaveSelectFirst = (int)(One * 0.75);

    private int _score;
    private volatile InsertOrGetMode _mode = InsertOrGetMode.InsertOnly;
    private volatile int _forced = -1;
    private long _switches;

    public InsertOrGetMode Mode => _forced >= 0 ? (InsertOrGetMode)_forced : _mode;

    public double HitRate => (double)Volatile.Read(ref _score) / One;

    public long Switches => Interlocked.Read(ref _switches);

    // For tests and benchmarks: pin one mode, or return to the adaptive choice (null).
    public void Force(InsertOrGetMode? mode) => _forced = mode is { } pinned ? (int)pinned : -1;

    // Called once per completed insert-or-get with whether the key existed. Returns true when the mode changed.
    public bool Record(bool existing)
    {
        var before = Volatile.Read(ref _score);
        var score = before + (((existing ? One : 0) - before) >> DecayShift);
        if (score != before)
        {
            // Settled at 0 (every key new) it stays put: no write, so concurrent callers do not share a dirty cache line.
            Volatile.Write(ref _score, score);
        }

        var mode = _mode;
        var next = mode switch
        {
            InsertOrGetMode.InsertOnly when score >= LeaveInsertOnly => InsertOrGetMode.Batch,
            InsertOrGetMode.Batch when score >= EnterSelectFirst => InsertOrGetMode.SelectFirst,
            InsertOrGetMode.Batch when score < EnterInsertOnly => InsertOrGetMode.InsertOnly,
            InsertOrGetMode.SelectFirst when score < LeaveSelectFirst => InsertOrGetMode.Batch,
            _ => mode,
        };
        if (next == mode)
        {
            return false;
        }

        _mode = next;
        Interlocked.Increment(ref _switches);
        return true;
    }
}

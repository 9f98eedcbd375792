// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Writing;

// Which statement an insert-or-get on one table sends first, chosen from the table's observed hit rate (the share of
// calls answered Existing). Insert-first ([SAVEPOINT] INSERT … ON CONFLICT DO NOTHING RETURNING + re-select, one round
// trip) is best for new keys; select-first (the re-select alone, then insert-first on a miss) is best when the key
// usually exists, because PostgreSQL answers an index lookup faster than an INSERT that finds a conflict (pgbench here,
// 1 client: ~29k SELECT/s vs ~20k INSERT + SELECT/s). Break-even is the hit rate h where SELECT = h × (INSERT + SELECT):
// ~0.7 locally; round trips push it towards 1 on a remote server, so the switch to select-first needs 0.85.
//
// Lock-free and approximate on purpose: racing updates of the decayed counter may lose a sample, which only delays a
// switch by a few calls. Either choice is race-safe, so the estimate never affects results, only speed.
internal sealed class InsertOrGetStrategy
{
    // Exponentially decayed hit rate in 16-bit fixed point; each call moves it 1/32 of the way to 0 or 1.
    internal const int One = 1 << 16;
    internal const int DecayShift = 5;

    // Hysteresis: select-first from a hit rate of 0.85 up, back to insert-first below 0.75.
    internal const int EnterSelectFirst = (int)(One * 0.85);
    internal const int LeaveSelectFirst = (int)(One * 0.75);

    private int _score;
    private volatile bool _selectFirst;
    private int _forced;
    private long _switches;
    private long _selectFirstCalls;
    private long _selectFirstHits;

    // True: send the SELECT first.
    public bool SelectFirst => _forced switch
    {
        1 => false,
        2 => true,
        _ => _selectFirst,
    };

    public double HitRate => (double)Volatile.Read(ref _score) / One;

    public long Switches => Interlocked.Read(ref _switches);

    public long SelectFirstCalls => Interlocked.Read(ref _selectFirstCalls);

    public long SelectFirstHits => Interlocked.Read(ref _selectFirstHits);

    // For tests: pin one strategy (true = select-first, false = insert-first) or return to the adaptive choice (null).
    public void Force(bool? selectFirst) => Volatile.Write(ref _forced, selectFirst switch { null => 0, false => 1, true => 2 });

    // Called once per completed insert-or-get with whether the key existed. Returns true when the choice changed.
    public bool Record(bool existing)
    {
        var score = Volatile.Read(ref _score);
        score += ((existing ? One : 0) - score) >> DecayShift;
        Volatile.Write(ref _score, score);

        if (!_selectFirst && score >= EnterSelectFirst)
        {
            _selectFirst = true;
            Interlocked.Increment(ref _switches);
            return true;
        }

        if (_selectFirst && score < LeaveSelectFirst)
        {
            _selectFirst = false;
            Interlocked.Increment(ref _switches);
            return true;
        }

        return false;
    }

    public void SelectedFirst(bool hit)
    {
        Interlocked.Increment(ref _selectFirstCalls);
        if (hit)
        {
            Interlocked.Increment(ref _selectFirstHits);
        }
    }
}

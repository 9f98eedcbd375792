// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Sequences;

// Pure arithmetic of sequence repair. Everything is computed in Int128 so that values near the bigint bounds never overflow.
internal static class SequenceMath
{
    // What nextval() returns now: last_value itself when is_called is false (after setval(s, v, false) or a restart),
    // else last_value + increment; null when that leaves the range of a sequence that does not cycle (exhausted).
    public static long? NextValue(long lastValue, bool isCalled, long increment, long min, long max, bool cycle)
    {
        if (!isCalled)
        {
            return lastValue;
        }

        var next = (Int128)lastValue + increment;
        if (next > max || next < min)
        {
            return cycle ? (increment > 0 ? min : max) : null;
        }

        return (long)next;
    }

    // The value the next default insert must get: the first grid value START + k * INCREMENT (k >= 0) strictly past the
    // data's extreme (MAX ascending, MIN descending), or START when there is no data or the data lies before START.
    // Staying on the grid keeps schemes where several nodes interleave ids (START 1/2/3, INCREMENT 10) working.
    // Null when that value is beyond the sequence's range.
    public static long? RequiredNextValue(long start, long increment, long? dataExtreme, long min, long max)
    {
        if (dataExtreme is not { } extreme)
        {
            return start;
        }

        Int128 required;
        if (increment > 0)
        {
            if (extreme < start)
            {
                return start;
            }

            var steps = (((Int128)extreme - start) / increment) + 1;
            required = start + (steps * increment);
        }
        else
        {
            if (extreme > start)
            {
                return start;
            }

            var steps = (((Int128)start - extreme) / -(Int128)increment) + 1;
            required = start + (steps * increment);
        }

        return required > max || required < min ? null : (long)required;
    }

    // MAX of the values (MIN for a descending sequence); null when every column is empty.
    public static long? Extreme(IEnumerable<long?> values, bool descending)
    {
        long? result = null;
        foreach (var value in values)
        {
            if (value is { } v && (result is not { } r || (descending ? v < r : v > r)))
            {
                result = v;
            }
        }

        return result;
    }

    // The guard of the repair's setval: with is_called, nextval() returns last_value + increment, so the sequence is behind
    // the target exactly when last_value < target - increment (ascending). Clamped: a bound outside bigint means "never".
    public static long GuardLastValue(long target, long increment)
    {
        var bound = (Int128)target - increment;
        return bound > long.MaxValue ? long.MaxValue : bound < long.MinValue ? long.MinValue : (long)bound;
    }

    public static SequenceEvaluation Evaluate(SequenceInfo sequence, long? nextValue, long? dataExtreme, double nearExhaustionThreshold)
    {
        var (effectiveMin, effectiveMax) = sequence.EffectiveBounds();
        var required = RequiredNextValue(sequence.Start, sequence.Increment, dataExtreme, effectiveMin, effectiveMax);

        if (nextValue is not { } next)
        {
            return new SequenceEvaluation(
                SequenceStatus.Skipped,
                required,
                1,
                true,
                $"exhausted: the sequence reached its {(sequence.IsDescending ? "MINVALUE" : "MAXVALUE")} and does not cycle, so nextval() fails");
        }

        var behind = required is { } target && (sequence.IsDescending ? next > target : next < target);
        var ahead = required is { } t && (sequence.IsDescending ? next < t : next > t);
        var status = required is null || behind ? SequenceStatus.Drifted : ahead ? SequenceStatus.Ahead : SequenceStatus.Healthy;
        string? reason = null;
        if (required is null)
        {
            reason = $"the data reaches {SequenceText.Value(dataExtreme)}: the next free value is beyond the " +
                $"sequence's {(sequence.IsDescending ? "MINVALUE" : "MAXVALUE")} or the column type";
        }
        else if (behind && dataExtreme is { } extreme && (sequence.IsDescending ? next < extreme : next > extreme))
        {
            reason = "the next value is past the data but off the sequence's grid (START + k * INCREMENT)";
        }
        else if (behind && dataExtreme is null)
        {
            reason = "the tables are empty and the next value lies before the sequence's START";
        }

        // Used part of the range, from the value the next default insert gets (after a repair, if one is due).
        // No free value left in range (required is null) counts as fully used.
        var value = required is { } r && behind ? r : next;
        var span = (double)((Int128)effectiveMax - effectiveMin);
        var used = required is null || span <= 0
            ? 1
            : (sequence.IsDescending ? (double)((Int128)effectiveMax - value) : (double)((Int128)value - effectiveMin)) / span;
        used = Math.Clamp(used, 0, 1);
        return new SequenceEvaluation(status, required, used, used >= nearExhaustionThreshold, reason);
    }
}

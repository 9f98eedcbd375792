// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Sequences;

// last_value and is_called of a sequence, as read by SequenceSql.ReadState.
internal readonly record struct SequenceState(long LastValue, bool IsCalled)
{
    public long? NextValue(SequenceInfo sequence)
        => SequenceMath.NextValue(LastValue, IsCalled, sequence.Increment, sequence.Min, sequence.Max, sequence.Cycle);

    // Null when the role sees only pg_sequence_last_value() and the sequence was never called (state unknown).
    public static SequenceState? Read(NpgsqlDataReader reader)
        => reader.IsDBNull(0) ? null : new SequenceState(reader.GetInt64(0), reader.GetBoolean(1));
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// What a repair did to one sequence.
/// </summary>
public enum SequenceRepairOutcome
{
    /// <summary>The sequence was moved forward to the next free value.</summary>
    Repaired = 0,

    /// <summary>The sequence needed no change when it was examined under the table locks (healthy or ahead).</summary>
    Unchanged = 1,

    /// <summary>A dry run: the repair's statements were planned, nothing was changed.</summary>
    Planned = 2,

    /// <summary>The sequence was not repaired (for example the role cannot read a table or update the sequence);
    /// <see cref="SequenceRepair.Reason"/> says why.</summary>
    Skipped = 3,

    /// <summary>The repair failed with an error; <see cref="SequenceRepair.Reason"/> holds it, and the run went on with
    /// the other sequences.</summary>
    Failed = 4,
}

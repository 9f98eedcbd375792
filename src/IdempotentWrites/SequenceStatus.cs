// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The state of a sequence compared with the data of every column that draws from it.
/// </summary>
public enum SequenceStatus
{
    /// <summary>The sequence hands out exactly the next free value of its grid.</summary>
    Healthy = 0,

    /// <summary>The sequence is past the next free value (a gap, which is harmless); a repair leaves it alone, because
    /// a sequence never moves backwards.</summary>
    Ahead = 1,

    /// <summary>The sequence is behind its data: default inserts collide with existing rows (or it stands below its
    /// start value or off its grid).</summary>
    Drifted = 2,

    /// <summary>The sequence could not be compared (for example the role cannot read a table);
    /// <see cref="SequenceFinding.Reason"/> says why.</summary>
    Skipped = 3,
}

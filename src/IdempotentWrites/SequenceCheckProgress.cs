// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// Progress of a sequence check: reads of sequence states and table columns done so far.
/// </summary>
public sealed class SequenceCheckProgress
{
    internal SequenceCheckProgress(int completed, int total)
    {
        Completed = completed;
        Total = total;
    }

    /// <summary>
    /// Gets the number of reads (sequence states and column scans) done.
    /// </summary>
    public int Completed { get; }

    /// <summary>
    /// Gets the number of reads the check makes in all.
    /// </summary>
    public int Total { get; }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The result of <see cref="SequenceDoctor.FixAsync(System.Threading.CancellationToken)"/> or
/// <see cref="SequenceDoctor.PlanFixAsync(System.Threading.CancellationToken)"/>.
/// </summary>
public sealed class SequenceRepairReport
{
    internal SequenceRepairReport(bool isDryRun, SequenceCheckReport check, IReadOnlyList<SequenceRepair> repairs)
    {
        IsDryRun = isDryRun;
        Check = check;
        Repairs = repairs;
    }

    /// <summary>
    /// Gets a value indicating whether this was a dry run that changed nothing.
    /// </summary>
    public bool IsDryRun { get; }

    /// <summary>
    /// Gets the check that chose the sequences to repair.
    /// </summary>
    public SequenceCheckReport Check { get; }

    /// <summary>
    /// Gets one entry per sequence that was drifted or skipped by the check; healthy and ahead sequences are left alone and not listed.
    /// </summary>
    public IReadOnlyList<SequenceRepair> Repairs { get; }

    /// <summary>
    /// Gets the number of sequences that were moved.
    /// </summary>
    public int RepairedCount => Repairs.Count(r => r.Outcome == SequenceRepairOutcome.Repaired);

    /// <summary>
    /// Gets a value indicating whether drift may remain: a repair was skipped or failed.
    /// </summary>
    public bool HasUnrepairedDrift => Repairs.Any(r => r.Outcome is SequenceRepairOutcome.Skipped or SequenceRepairOutcome.Failed);
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The result of <see cref="SequenceDoctor.CheckAsync(System.Threading.CancellationToken)"/>: one finding per sequence.
/// </summary>
public sealed class SequenceCheckReport
{
    internal SequenceCheckReport(IReadOnlyList<SequenceFinding> findings, TimeSpan elapsed)
    {
        Findings = findings;
        Elapsed = elapsed;
        Drifted = [.. findings.Where(f => f.Status == SequenceStatus.Drifted)];
        Skipped = [.. findings.Where(f => f.Status == SequenceStatus.Skipped)];
        NearlyExhausted = [.. findings.Where(f => f.IsNearlyExhausted)];
    }

    /// <summary>
    /// Gets one finding per sequence that feeds a column, ordered by schema and name.
    /// </summary>
    public IReadOnlyList<SequenceFinding> Findings { get; }

    /// <summary>
    /// Gets the findings whose sequence is behind its data.
    /// </summary>
    public IReadOnlyList<SequenceFinding> Drifted { get; }

    /// <summary>
    /// Gets the findings that could not be compared, each with its reason.
    /// </summary>
    public IReadOnlyList<SequenceFinding> Skipped { get; }

    /// <summary>
    /// Gets the findings whose sequence has used most of its range.
    /// </summary>
    public IReadOnlyList<SequenceFinding> NearlyExhausted { get; }

    /// <summary>
    /// Gets a value indicating whether any sequence is behind its data.
    /// </summary>
    public bool HasDrift => Drifted.Count > 0;

    /// <summary>
    /// Gets how long the check took.
    /// </summary>
    public TimeSpan Elapsed { get; }
}

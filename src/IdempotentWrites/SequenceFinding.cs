// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Sequences;

namespace IdempotentWrites;

/// <summary>
/// One sequence compared with the data of every column that draws from it.
/// </summary>
public sealed class SequenceFinding
{
    internal SequenceFinding(
        SequenceInfo sequence,
        IReadOnlyList<SequenceColumn> columns,
        SequenceStatus status,
        long? nextValue,
        long? dataExtreme,
        long? requiredNextValue,
        double usedFraction,
        bool isNearlyExhausted,
        string? reason)
    {
        Schema = sequence.Schema;
        Name = sequence.Name;
        Columns = columns;
        StartValue = sequence.Start;
        Increment = sequence.Increment;
        MinValue = sequence.Min;
        MaxValue = sequence.Max;
        Cycles = sequence.Cycle;
        Status = status;
        NextValue = nextValue;
        DataExtreme = dataExtreme;
        RequiredNextValue = requiredNextValue;
        UsedFraction = usedFraction;
        IsNearlyExhausted = isNearlyExhausted;
        Reason = reason;
    }

    /// <summary>
    /// Gets the schema of the sequence.
    /// </summary>
    public string Schema { get; }

    /// <summary>
    /// Gets the sequence name (as stored in the catalog, case-sensitive).
    /// </summary>
    public string Name { get; }

    /// <summary>
    /// Gets the sequence as <c>schema.name</c>, each part quoted only where SQL needs it.
    /// </summary>
    public string DisplayName => SequenceText.Name(Schema, Name);

    /// <summary>
    /// Gets every column that draws from the sequence, in all schemas (more than one for a shared sequence).
    /// </summary>
    public IReadOnlyList<SequenceColumn> Columns { get; }

    /// <summary>
    /// Gets the sequence's <c>START</c> value.
    /// </summary>
    public long StartValue { get; }

    /// <summary>
    /// Gets the sequence's <c>INCREMENT</c> (negative for a descending sequence).
    /// </summary>
    public long Increment { get; }

    /// <summary>
    /// Gets the sequence's <c>MINVALUE</c>.
    /// </summary>
    public long MinValue { get; }

    /// <summary>
    /// Gets the sequence's <c>MAXVALUE</c>.
    /// </summary>
    public long MaxValue { get; }

    /// <summary>
    /// Gets a value indicating whether the sequence wraps around (<c>CYCLE</c>).
    /// </summary>
    public bool Cycles { get; }

    /// <summary>
    /// Gets a value indicating whether the sequence counts down (its increment is negative); its data is compared by <c>MIN</c>.
    /// </summary>
    public bool IsDescending => Increment < 0;

    /// <summary>
    /// Gets the value <c>nextval()</c> would return now, or <see langword="null"/> when it is unknown (skipped) or the sequence is exhausted.
    /// </summary>
    public long? NextValue { get; }

    /// <summary>
    /// Gets the largest value (the smallest for a descending sequence) in the columns that draw from the sequence, across every table,
    /// or <see langword="null"/> when they hold no rows or could not be read.
    /// </summary>
    public long? DataExtreme { get; }

    /// <summary>
    /// Gets the value the next default insert must get: the first value of the sequence's grid (<c>START + k × INCREMENT</c>)
    /// past <see cref="DataExtreme"/>, or <c>START</c> when there is no data. <see langword="null"/> when unknown or beyond the sequence's range.
    /// </summary>
    public long? RequiredNextValue { get; }

    /// <summary>
    /// Gets the result of the comparison.
    /// </summary>
    public SequenceStatus Status { get; }

    /// <summary>
    /// Gets why the sequence was skipped, or a note on a drift that cannot be repaired; otherwise <see langword="null"/>.
    /// </summary>
    public string? Reason { get; }

    /// <summary>
    /// Gets the part of the usable range (the sequence's, narrowed to the smallest column type) already used, from 0 to 1.
    /// </summary>
    public double UsedFraction { get; }

    /// <summary>
    /// Gets a value indicating whether <see cref="UsedFraction"/> reached <see cref="SequenceDoctorOptions.NearExhaustionThreshold"/>.
    /// </summary>
    public bool IsNearlyExhausted { get; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{DisplayName}: {Status} (next {SequenceText.Value(NextValue)}, data {SequenceText.Value(DataExtreme)}, " +
            $"required {SequenceText.Value(RequiredNextValue)})";
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Sequences;

namespace IdempotentWrites;

/// <summary>
/// What a repair did (or, in a dry run, would do) to one sequence, with the exact SQL.
/// </summary>
public sealed class SequenceRepair
{
    internal SequenceRepair(
        string schema,
        string name,
        IReadOnlyList<SequenceColumn> columns,
        SequenceRepairOutcome outcome,
        long? nextValueBefore,
        long? nextValueAfter,
        long? dataExtreme,
        long? requiredNextValue,
        string? reason,
        IReadOnlyList<string> statements)
    {
        Schema = schema;
        Name = name;
        Columns = columns;
        Outcome = outcome;
        NextValueBefore = nextValueBefore;
        NextValueAfter = nextValueAfter;
        DataExtreme = dataExtreme;
        RequiredNextValue = requiredNextValue;
        Reason = reason;
        Statements = statements;
    }

    /// <summary>
    /// Gets the schema of the sequence.
    /// </summary>
    public string Schema { get; }

    /// <summary>
    /// Gets the sequence name.
    /// </summary>
    public string Name { get; }

    /// <summary>
    /// Gets the sequence as <c>schema.name</c>, each part quoted only where SQL needs it.
    /// </summary>
    public string DisplayName => SequenceText.Name(Schema, Name);

    /// <summary>
    /// Gets every column that draws from the sequence.
    /// </summary>
    public IReadOnlyList<SequenceColumn> Columns { get; }

    /// <summary>
    /// Gets what the repair did.
    /// </summary>
    public SequenceRepairOutcome Outcome { get; }

    /// <summary>
    /// Gets the value <c>nextval()</c> returned before the repair (read under the table locks), or <see langword="null"/> when unknown.
    /// </summary>
    public long? NextValueBefore { get; }

    /// <summary>
    /// Gets the value <c>nextval()</c> returns after the repair (for a dry run: would return), or <see langword="null"/> when unknown.
    /// </summary>
    public long? NextValueAfter { get; }

    /// <summary>
    /// Gets the data's largest value (smallest for a descending sequence) across every column that draws from the sequence.
    /// </summary>
    public long? DataExtreme { get; }

    /// <summary>
    /// Gets the value the next default insert must get.
    /// </summary>
    public long? RequiredNextValue { get; }

    /// <summary>
    /// Gets why the sequence was skipped or the repair failed; otherwise <see langword="null"/>.
    /// </summary>
    public string? Reason { get; }

    /// <summary>
    /// Gets the statements the repair ran (for a dry run: would run), in order, with parameter values written as literals.
    /// </summary>
    public IReadOnlyList<string> Statements { get; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{DisplayName}: {Outcome} (next {SequenceText.Value(NextValueBefore)} -> " +
            $"{SequenceText.Value(NextValueAfter)}){(Reason is null ? string.Empty : ": " + Reason)}";
}

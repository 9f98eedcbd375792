// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The result of an idempotent write: what happened and the row as it is stored in the database.
/// </summary>
/// <typeparam name="T">The mapped row type.</typeparam>
public sealed class WriteResult<T>
    where T : class
{
    /// <summary>
    /// Initializes a new instance of the <see cref="WriteResult{T}"/> class.
    /// </summary>
    /// <param name="outcome">What the write did.</param>
    /// <param name="row">The row as stored.</param>
    /// <param name="attempts">The number of statement round trips the write needed.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="row"/> is <see langword="null"/>.</exception>
    public WriteResult(WriteOutcome outcome, T row, int attempts)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attempts);
        Outcome = outcome;
        Row = row;
        Attempts = attempts;
    }

    /// <summary>
    /// Gets what the write did.
    /// </summary>
    public WriteOutcome Outcome { get; }

    /// <summary>
    /// Gets the row as stored in the database, with generated columns (identity, defaults) filled.
    /// <para/>
    /// For <see cref="WriteOutcome.Existing"/> this is the stored row, not the input.
    /// </summary>
    public T Row { get; }

    /// <summary>
    /// Gets how many times the write was made on its connection: 1, or more when the conflicting row vanished before it could
    /// be read (at most <see cref="IdempotentWritesOptions.MaxReselectAttempts"/>). It does not count round trips (a
    /// select-first miss takes two) nor the resilience pipeline's retries after a transient fault (those are the
    /// <c>idempotent_writes.attempts</c> span tag and the <c>idempotent_writes.retries</c> counter).
    /// </summary>
    public int Attempts { get; }

    /// <summary>
    /// Gets a value indicating whether this call created the row.
    /// </summary>
    public bool Created => Outcome == WriteOutcome.Inserted;

    /// <inheritdoc/>
    public override string ToString() => $"{Outcome}: {Row}";
}

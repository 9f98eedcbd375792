// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// Options of one bulk operation (<see cref="IIdempotentWriter.InsertManyAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/>,
/// <see cref="IIdempotentWriter.UpsertManyAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/>,
/// <see cref="IIdempotentWriter.PreviewConflictsAsync{T}(IEnumerable{T}, BulkWriteOptions?, CancellationToken)"/>,
/// and the same methods of <see cref="TextBulkWriter"/>).
/// </summary>
public sealed class BulkWriteOptions
{
    /// <summary>The default <see cref="ChunkSize"/>: 50,000 rows.</summary>
    public const int DefaultChunkSize = 50_000;

    /// <summary>The largest accepted <see cref="ChunkSize"/>: 1,000,000 rows.</summary>
    public const int MaxChunkSize = 1_000_000;

    /// <summary>
    /// Gets or sets how many input rows are staged and moved per transaction (default <see cref="DefaultChunkSize"/>, 1 to
    /// <see cref="MaxChunkSize"/>). Each chunk commits on its own, in input order: while one chunk writes, the next is read
    /// and staged on a second connection, so memory stays bounded by two chunks, and a failure or a cancellation loses at
    /// most the chunks in flight, never part of one. Each chunk runs through the writer's resilience pipeline, so it must
    /// finish within <see cref="IdempotentWritesOptions.Timeout"/>, counted from its staging through the wait for the chunk
    /// before it to its commit (the README's bulk figures say how long a chunk takes).
    /// </summary>
    public int ChunkSize { get; set; } = DefaultChunkSize;

    /// <summary>
    /// Gets or sets a value indicating whether the report carries the rows written, as stored (generated columns filled),
    /// in <see cref="BulkWriteReport{T}.WrittenRows"/>. Off by default: returning every row costs memory and bandwidth.
    /// </summary>
    public bool ReturnRows { get; set; }

    /// <summary>
    /// Gets or sets how many input rows the report keeps in each of <see cref="BulkWriteReport{T}.ExistingRows"/> and
    /// <see cref="BulkWriteReport{T}.DuplicateRows"/> (default 1,000; 0 keeps none). The counts are always exact.
    /// </summary>
    public int MaxReportedRows { get; set; } = 1_000;

    /// <summary>
    /// Gets or sets a value indicating whether, after rows were written, the sequences behind the written columns
    /// (serial, identity, <c>DEFAULT nextval(...)</c>) are moved past the largest value now stored, so the next insert
    /// that relies on the default does not collide with an imported explicit id. On by default. A sequence is only ever
    /// moved forward.
    /// </summary>
    public bool SynchronizeSequences { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the whole operation runs in one transaction on one connection: all or
    /// nothing. Chunks still bound the memory, but nothing is committed before the last one is written; a failure or a
    /// cancellation rolls everything back (the report then counts nothing), and a transient fault is not retried (the whole
    /// operation must be run again). Chunks are not overlapped, so it is slower; concurrent bulk writes into the same table
    /// wait until it commits. Off by default.
    /// </summary>
    public bool SingleTransaction { get; set; }

    /// <summary>
    /// Gets or sets a receiver of the running totals, reported after each committed chunk.
    /// </summary>
    public IProgress<BulkWriteReport>? Progress { get; set; }

    internal void Validate()
    {
        if (ChunkSize is < 1 or > MaxChunkSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ChunkSize),
                ChunkSize,
                $"BulkWriteOptions.ChunkSize must be between 1 and {MaxChunkSize:N0}.");
        }

        if (MaxReportedRows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReportedRows), MaxReportedRows, "BulkWriteOptions.MaxReportedRows must not be negative.");
        }
    }
}

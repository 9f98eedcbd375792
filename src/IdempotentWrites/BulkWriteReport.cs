// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The totals of a bulk operation: what happened to every input row. Every input row is counted exactly once, in
/// <see cref="Inserted"/>, <see cref="Updated"/>, <see cref="Unchanged"/>, <see cref="Existing"/> or <see cref="DuplicatesInInput"/>.
/// </summary>
public class BulkWriteReport
{
    internal BulkWriteReport()
    {
    }

    /// <summary>Gets the table written to, as <c>schema.table</c> or <c>table</c>.</summary>
    public string Table { get; internal set; } = string.Empty;

    /// <summary>Gets a value indicating whether nothing was written: the report of a preview, counting what a write
    /// would do at that moment.</summary>
    public bool IsPreview { get; internal set; }

    /// <summary>Gets the number of input rows processed (in committed chunks).</summary>
    public long RowsRead { get; internal set; }

    /// <summary>Gets the number of rows inserted (for a preview: whose key does not exist yet).</summary>
    public long Inserted { get; internal set; }

    /// <summary>Gets the number of existing rows updated by an upsert.</summary>
    public long Updated { get; internal set; }

    /// <summary>Gets the number of existing rows an upsert left alone because they already held the incoming values.</summary>
    public long Unchanged { get; internal set; }

    /// <summary>
    /// Gets the number of input rows whose key was already stored by someone other than this operation (before it began,
    /// or concurrently), so an insert skipped them. A key that existed counts here for each of its input rows. Always 0 for
    /// an upsert, which counts them as <see cref="Updated"/> or <see cref="Unchanged"/>.
    /// </summary>
    public long Existing { get; internal set; }

    /// <summary>
    /// Gets the number of input rows skipped because this operation had already written their key from an earlier input
    /// row (an insert keeps the first occurrence). For an upsert: the rows superseded by a later row with the same key in
    /// the same chunk (the last one wins); a key repeated in a later chunk is applied again and counted as
    /// <see cref="Updated"/> or <see cref="Unchanged"/>.
    /// </summary>
    public long DuplicatesInInput { get; internal set; }

    /// <summary>Gets the number of chunks committed (for a preview: examined).</summary>
    public int Chunks { get; internal set; }

    /// <summary>Gets the number of sequences moved forward after explicit values were written (see
    /// <see cref="BulkWriteOptions.SynchronizeSequences"/>).</summary>
    public int SequencesSynchronized { get; internal set; }

    /// <summary>Gets the time from the start of the operation to this report.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>Returns a copy of these totals (progress reports are copies, so a receiver may keep them).</summary>
    /// <returns>A copy.</returns>
    public BulkWriteReport Snapshot() => new()
    {
        Table = Table,
        IsPreview = IsPreview,
        RowsRead = RowsRead,
        Inserted = Inserted,
        Updated = Updated,
        Unchanged = Unchanged,
        Existing = Existing,
        DuplicatesInInput = DuplicatesInInput,
        Chunks = Chunks,
        SequencesSynchronized = SequencesSynchronized,
        Elapsed = Elapsed,
    };

    /// <inheritdoc/>
    public override string ToString()
        => $"{Table}: {RowsRead:N0} rows read in {Chunks:N0} chunk(s), {Inserted:N0} inserted, {Updated:N0} updated, {Unchanged:N0} unchanged, " +
            $"{Existing:N0} already existed, {DuplicatesInInput:N0} duplicate(s) in the input, {Elapsed.TotalSeconds:0.###} s";
}

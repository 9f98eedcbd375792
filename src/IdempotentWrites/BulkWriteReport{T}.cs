// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The report of a bulk operation on rows of type <typeparamref name="T"/>: the totals plus the input rows that were
/// skipped (up to <see cref="BulkWriteOptions.MaxReportedRows"/> each) and, on request, the rows written.
/// </summary>
/// <typeparam name="T">The row type: a mapped type, or the rows of text given to a <see cref="TextBulkWriter"/>.</typeparam>
public sealed class BulkWriteReport<T> : BulkWriteReport
{
    internal BulkWriteReport()
    {
    }

    /// <summary>Gets input rows whose key already existed (the first <see cref="BulkWriteOptions.MaxReportedRows"/>, in input order).</summary>
    public IReadOnlyList<T> ExistingRows { get; internal set; } = [];

    /// <summary>Gets input rows skipped as duplicates of another input row (the first <see cref="BulkWriteOptions.MaxReportedRows"/>).</summary>
    public IReadOnlyList<T> DuplicateRows { get; internal set; } = [];

    /// <summary>Gets the rows inserted or updated, as stored, when <see cref="BulkWriteOptions.ReturnRows"/> is set; otherwise empty.</summary>
    public IReadOnlyList<T> WrittenRows { get; internal set; } = [];
}

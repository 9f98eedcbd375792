// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A bulk operation was canceled. It stopped cleanly between chunks: the chunks in <see cref="Report"/> are committed,
/// the rest of the input was not written. Running the same import again completes it with the same final table.
/// </summary>
public sealed class BulkWriteCanceledException : OperationCanceledException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="BulkWriteCanceledException"/> class.
    /// </summary>
    /// <param name="report">The totals of the chunks committed before the cancellation.</param>
    /// <param name="cancellationToken">The token that canceled the operation.</param>
    public BulkWriteCanceledException(BulkWriteReport report, CancellationToken cancellationToken)
        : base(
            $"The bulk write into {report?.Table} was canceled after {report?.Chunks} committed chunk(s) ({report?.RowsRead:N0} rows processed).",
            cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        Report = report;
    }

    /// <summary>Gets the totals of the chunks committed before the cancellation.</summary>
    public BulkWriteReport Report { get; }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Logging;

namespace IdempotentWrites.Internal;

// Bulk events (12xx). Table names and counts are logged; row data never is.
internal static partial class Log
{
    [LoggerMessage(
        IdempotentWritesEventId.BulkChunkCommitted,
        LogLevel.Debug,
        "Bulk write into {Table}: chunk {Chunk} committed ({Rows} rows, {Written} written, {Write})",
        EventName = "BulkChunkCommitted")]
    public static partial void BulkChunkCommitted(this ILogger logger, string table, int chunk, int rows, long written, string write);

    [LoggerMessage(
        IdempotentWritesEventId.BulkCompleted,
        LogLevel.Information,
        "Bulk {Mode} into {Table}: {Rows} rows, {Inserted} inserted, {Updated} updated, {Existing} existed, " +
        "{Duplicates} duplicates in the input, {ElapsedMilliseconds} ms",
        EventName = "BulkCompleted")]
    public static partial void BulkCompleted(
        this ILogger logger,
        string table,
        string mode,
        long rows,
        long inserted,
        long updated,
        long existing,
        long duplicates,
        long elapsedMilliseconds);

    [LoggerMessage(
        IdempotentWritesEventId.BulkStopped,
        LogLevel.Warning,
        "Bulk write into {Table} stopped after {Chunks} committed chunk(s) ({Rows} rows): {Reason}",
        EventName = "BulkStopped")]
    public static partial void BulkStopped(this ILogger logger, string table, int chunks, long rows, string reason);

    [LoggerMessage(
        IdempotentWritesEventId.BulkSequenceSyncFailed,
        LogLevel.Warning,
        "Could not synchronise the sequences of {Table} after a bulk write stopped early",
        EventName = "BulkSequenceSyncFailed")]
    public static partial void BulkSequenceSyncFailed(this ILogger logger, string table, Exception exception);

    [LoggerMessage(
        IdempotentWritesEventId.BulkChunkRewritten,
        LogLevel.Debug,
        "Bulk write into {Table}: the plain INSERT of chunk {Chunk} met a unique violation; the chunk is written again, classified",
        EventName = "BulkChunkRewritten")]
    public static partial void BulkChunkRewritten(this ILogger logger, string table, int chunk);
}

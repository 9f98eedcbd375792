// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Logging;

namespace IdempotentWrites.Internal;

internal static partial class Log
{
    [LoggerMessage(
        IdempotentWritesEventId.MappingResolved,
        LogLevel.Debug,
        "Resolved table mapping {Table} for {RowType}: arbiter indexes {ArbiterIndexes}",
        EventName = "MappingResolved")]
    public static partial void MappingResolved(this ILogger logger, string table, string rowType, string arbiterIndexes);

    [LoggerMessage(
        IdempotentWritesEventId.ConflictingRowVanished,
        LogLevel.Debug,
        "Insert into {Table} conflicted but the re-select found no row (attempt {Attempt} of {MaxAttempts})",
        EventName = "ConflictingRowVanished")]
    public static partial void ConflictingRowVanished(this ILogger logger, string table, int attempt, int maxAttempts);

    [LoggerMessage(
        IdempotentWritesEventId.ConstraintLookupFailed,
        LogLevel.Warning,
        "Could not read the catalog definition of constraint {Constraint}",
        EventName = "ConstraintLookupFailed")]
    public static partial void ConstraintLookupFailed(this ILogger logger, string constraint, Exception exception);

    [LoggerMessage(
        IdempotentWritesEventId.SavepointRollbackFailed,
        LogLevel.Warning,
        "Could not roll back to the writer's savepoint on table {Table}",
        EventName = "SavepointRollbackFailed")]
    public static partial void SavepointRollbackFailed(this ILogger logger, string table, Exception exception);

    [LoggerMessage(
        IdempotentWritesEventId.RetryingAfterTransientFault,
        LogLevel.Warning,
        "Retrying {Operation} (attempt {Attempt}) in {Delay} after a transient fault {ErrorType}: {Reason}",
        EventName = "RetryingAfterTransientFault")]
    public static partial void RetryingAfterTransientFault(
        this ILogger logger,
        string operation,
        int attempt,
        TimeSpan delay,
        string errorType,
        string reason);

    [LoggerMessage(
        IdempotentWritesEventId.SequenceHealed,
        LogLevel.Warning,
        "Sequence drift on {Table}.{Column}: the generated key conflicted on {Constraint}; repaired {Repairs} " +
        "sequence(s) and retrying the insert once",
        EventName = "SequenceHealed")]
    public static partial void SequenceHealed(this ILogger logger, string table, string column, string? constraint, int repairs);

    [LoggerMessage(
        IdempotentWritesEventId.DatabaseUnavailableAtStartup,
        LogLevel.Warning,
        "The database is unavailable, so the table mappings are checked in the background, retrying every {Delay} " +
        "at most; calls fail with DatabaseUnavailableException until it is reachable",
        EventName = "DatabaseUnavailableAtStartup")]
    public static partial void DatabaseUnavailableAtStartup(this ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(
        IdempotentWritesEventId.MappingsValidated,
        LogLevel.Information,
        "The database is reachable and all {Count} table mappings are valid",
        EventName = "MappingsValidated")]
    public static partial void MappingsValidated(this ILogger logger, int count);

    [LoggerMessage(
        IdempotentWritesEventId.MappingInvalid,
        LogLevel.Error,
        "Table mapping {Table} does not match the database; every call for it fails with this error until the schema or the mapping is fixed",
        EventName = "MappingInvalid")]
    public static partial void MappingInvalid(this ILogger logger, string table, Exception exception);

    [LoggerMessage(
        IdempotentWritesEventId.CoalescedStatementFailed,
        LogLevel.Debug,
        "A coalesced statement for {Table} carrying {Rows} rows failed; its callers are written one by one",
        EventName = "CoalescedStatementFailed")]
    public static partial void CoalescedStatementFailed(this ILogger logger, string table, int rows, Exception exception);
}

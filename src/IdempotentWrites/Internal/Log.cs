// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Logging;

namespace IdempotentWrites.Internal;

internal static partial class Log
{
    [LoggerMessage(IdempotentWritesEventId.MappingResolved, LogLevel.Debug, "Resolved table mapping {Table} for {RowType}: arbiter indexes {ArbiterIndexes}", EventName = "MappingResolved")]
    public static partial void MappingResolved(this ILogger logger, string table, string rowType, string arbiterIndexes);

    [LoggerMessage(IdempotentWritesEventId.ConflictingRowVanished, LogLevel.Debug, "Insert into {Table} conflicted but the re-select found no row (attempt {Attempt} of {MaxAttempts})", EventName = "ConflictingRowVanished")]
    public static partial void ConflictingRowVanished(this ILogger logger, string table, int attempt, int maxAttempts);

    [LoggerMessage(IdempotentWritesEventId.ConstraintLookupFailed, LogLevel.Warning, "Could not read the catalog definition of constraint {Constraint}", EventName = "ConstraintLookupFailed")]
    public static partial void ConstraintLookupFailed(this ILogger logger, string constraint, Exception exception);

    [LoggerMessage(IdempotentWritesEventId.SavepointRollbackFailed, LogLevel.Warning, "Could not roll back to the writer's savepoint on table {Table}", EventName = "SavepointRollbackFailed")]
    public static partial void SavepointRollbackFailed(this ILogger logger, string table, Exception exception);

    [LoggerMessage(IdempotentWritesEventId.RetryingAfterTransientFault, LogLevel.Warning, "Retrying {Operation} (attempt {Attempt}) in {Delay} after a transient fault {ErrorType}: {Reason}", EventName = "RetryingAfterTransientFault")]
    public static partial void RetryingAfterTransientFault(this ILogger logger, string operation, int attempt, TimeSpan delay, string errorType, string reason);

    [LoggerMessage(IdempotentWritesEventId.SequenceHealed, LogLevel.Warning, "Sequence drift on {Table}.{Column}: the generated key conflicted on {Constraint}; repaired {Repairs} sequence(s) and retrying the insert once", EventName = "SequenceHealed")]
    public static partial void SequenceHealed(this ILogger logger, string table, string column, string? constraint, int repairs);
}

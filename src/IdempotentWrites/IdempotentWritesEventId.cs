// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The event ids of the log messages IdempotentWrites writes (1xxx core, 2xxx ASP.NET Core).
/// </summary>
public static class IdempotentWritesEventId
{
    /// <summary>A table mapping was resolved against the catalog (Debug).</summary>
    public const int MappingResolved = 1001;

    /// <summary>An insert conflicted but its re-select found no row, so the write is retried (Debug).</summary>
    public const int ConflictingRowVanished = 1002;

    /// <summary>The catalog definition of a violated constraint could not be read; the error carries no columns (Warning).</summary>
    public const int ConstraintLookupFailed = 1003;

    /// <summary>A caller's savepoint could not be rolled back after an error (Warning).</summary>
    public const int SavepointRollbackFailed = 1004;

    /// <summary>An idempotent operation failed with a transient fault and is retried (Warning).</summary>
    public const int RetryingAfterTransientFault = 1005;
}

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

    /// <summary>
    /// The catalog definition of a violated constraint (or, for SQLSTATE 428C9, the <c>GENERATED ALWAYS</c> columns of the table)
    /// could not be read; the error carries no columns (Warning).
    /// </summary>
    public const int ConstraintLookupFailed = 1003;

    /// <summary>A caller's savepoint could not be rolled back after an error (Warning).</summary>
    public const int SavepointRollbackFailed = 1004;

    /// <summary>An idempotent operation failed with a transient fault and is retried (Warning).</summary>
    public const int RetryingAfterTransientFault = 1005;

    /// <summary>A drifted sequence was repaired by the writer's self-healing and the insert retried (Warning).</summary>
    public const int SequenceHealed = 1006;

    /// <summary>The database was unreachable when the host started: the host starts anyway and the mappings are checked
    /// in the background (Warning).</summary>
    public const int DatabaseUnavailableAtStartup = 1007;

    /// <summary>The background check reached the database and every table mapping is valid (Information).</summary>
    public const int MappingsValidated = 1008;

    /// <summary>A table mapping does not match the database (missing table or column, no unique index, ...); every call
    /// for it fails with the same message (Error).</summary>
    public const int MappingInvalid = 1009;

    /// <summary>A coalesced statement failed (a row-level error, a lost connection); its callers are written again one by
    /// one, so each gets its own answer or error (Debug).</summary>
    public const int CoalescedStatementFailed = 1010;

    /// <summary>A sequence drift check finished (Debug: health checks run it often).</summary>
    public const int SequenceCheckCompleted = 1101;

    /// <summary>A check found a sequence behind the data of its columns (Debug).</summary>
    public const int SequenceDriftFound = 1102;

    /// <summary>A sequence was moved forward to the next free value of its data (Warning).</summary>
    public const int SequenceRepaired = 1103;

    /// <summary>A sequence was not repaired, for example because the role cannot read a table or update the sequence (Warning).</summary>
    public const int SequenceRepairSkipped = 1104;

    /// <summary>The repair of a sequence failed with an error; the run went on with the other sequences (Error).</summary>
    public const int SequenceRepairFailed = 1105;

    /// <summary>A check found a sequence that has used most of its range (Warning).</summary>
    public const int SequenceNearlyExhausted = 1106;

    /// <summary>A serial column was converted to an identity column (Information).</summary>
    public const int IdentityConversionApplied = 1107;

    /// <summary>A bulk operation committed a chunk (Debug).</summary>
    public const int BulkChunkCommitted = 1201;

    /// <summary>A bulk operation completed, with its totals (Information).</summary>
    public const int BulkCompleted = 1202;

    /// <summary>A bulk operation stopped early on an error or a cancellation; its committed chunks stay (Warning).</summary>
    public const int BulkStopped = 1203;

    /// <summary>Synchronising the sequences after a bulk operation that stopped early failed (Warning).</summary>
    public const int BulkSequenceSyncFailed = 1204;

    /// <summary>
    /// A chunk's plain INSERT (tried after a chunk that skipped nothing) met a unique violation, and the chunk was written
    /// again with the statement that skips and counts existing keys (Debug).
    /// </summary>
    public const int BulkChunkRewritten = 1205;
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// Names of the traces and metrics IdempotentWrites emits; see <c>AddIdempotentWritesInstrumentation()</c>.
/// </summary>
public static class IdempotentWritesTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> (one span per operation).</summary>
    public const string ActivitySourceName = "IdempotentWrites";

    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string MeterName = "IdempotentWrites";

    /// <summary>The name of the activity source and meter of the <c>IdempotentWrites.AspNetCore</c> package, which
    /// <c>AddIdempotentWritesInstrumentation()</c> also subscribes to.</summary>
    public const string AspNetCoreName = "IdempotentWrites.AspNetCore";

    /// <summary>Counter of completed operations, tagged with operation, table and outcome (or <c>error.type</c>).</summary>
    public const string OperationsCounter = "idempotent_writes.operations";

    /// <summary>Histogram of operation durations in seconds, tagged like <see cref="OperationsCounter"/>.</summary>
    public const string DurationHistogram = "idempotent_writes.operation.duration";

    /// <summary>Counter of key conflicts, tagged with table, constraint and kind (<c>resolved</c> by the arbiter, or <c>violation</c>).</summary>
    public const string ConflictsCounter = "idempotent_writes.conflicts";

    /// <summary>Counter of retries after transient faults, tagged with operation and <c>error.type</c>.</summary>
    public const string RetriesCounter = "idempotent_writes.retries";

    /// <summary>Counter of sequences repaired by the writer's self-healing, tagged with table.</summary>
    public const string SequenceRepairsCounter = "idempotent_writes.sequence.repairs";

    /// <summary>
    /// Histogram of the rows each coalesced statement carried (<see cref="IdempotentWritesOptions.CoalesceWrites"/>), tagged
    /// with operation and table.
    /// </summary>
    public const string CoalescedRowsHistogram = "idempotent_writes.coalesced.rows";
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.ComponentModel.DataAnnotations;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.Options;

namespace IdempotentWrites;

/// <summary>
/// Options of the IdempotentWrites writer.
/// </summary>
public sealed class IdempotentWritesOptions
{
    /// <summary>
    /// Gets or sets the Npgsql connection string the writer uses.
    /// <para/>
    /// When <see langword="null"/>, the writer uses the <c>NpgsqlDataSource</c> registered in dependency injection
    /// (keyed by <see cref="DataSourceServiceKey"/> when that is set), for example by <c>AddNpgsqlDataSource</c>.
    /// <para/>
    /// The data source built from this string does not reset connections returned to the pool (<c>No Reset On Close=true</c>,
    /// about a third of a hot-key call on loopback) unless the string sets <c>No Reset On Close</c> itself: every statement the
    /// SDK sends leaves the session as it found it. See <see cref="IdempotentWritesDataSource.DataSource"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Gets or sets the service key of a keyed <c>NpgsqlDataSource</c> registration to use when <see cref="ConnectionString"/> is not set.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (the unkeyed registration).</value>
    public object? DataSourceServiceKey { get; set; }

    /// <summary>
    /// Gets or sets how the columns of every mapped table are named: the column of a property that has no
    /// <see cref="TableMappingBuilder{T}.HasColumnName{TProperty}"/> is its name in snake_case (<c>CreatedAt</c> → <c>created_at</c>),
    /// or the property name verbatim (<c>"CreatedAt"</c>, as Entity Framework Core's migrations create it).
    /// <para/>
    /// A table's own <see cref="TableMappingBuilder{T}.ColumnNaming"/> takes precedence, and <c>HasColumnName</c> over both.
    /// The value is read when the mappings are first needed, so it may be set before or after the <c>MapTable</c> calls.
    /// </summary>
    /// <value>The default value is <see cref="ColumnNamingConvention.SnakeCase"/>.</value>
    public ColumnNamingConvention ColumnNaming { get; set; } = WriterConstants.DefaultColumnNaming;

    /// <summary>
    /// Gets or sets how many times an insert-or-get runs its insert and re-select when the insert conflicts but the re-select
    /// finds no row, before it throws <see cref="ConflictingRowNotFoundException"/>.
    /// <para/>
    /// A row deleted between the two statements is gone at the second attempt, which then inserts; when the second attempt
    /// ends the same way, the cause is deterministic (a <c>BEFORE INSERT</c> trigger that changes the key, row-level security
    /// hiding the row), so the exception is not transient and the resilience pipeline does not repeat the call.
    /// </summary>
    /// <value>The default value is 2.</value>
    [Range(1, 100)]
    public int MaxReselectAttempts { get; set; } = WriterConstants.DefaultMaxReselectAttempts;

    /// <summary>
    /// Gets or sets a value indicating whether concurrent <c>InsertOrGetAsync</c> and <c>UpsertAsync</c> calls on one mapped
    /// table, made without a transaction, are coalesced: while a statement for the table is in flight, the calls that arrive
    /// queue, and the queue leaves as one statement (one round trip, one commit) when it completes.
    /// <para/>
    /// There is no timer: a call on a table with nothing in flight goes out at once, exactly as without coalescing. Every
    /// caller gets the result it would have got alone (outcome and stored row); a row that fails (a check, a foreign key, a
    /// bad value) fails only its own caller, with the same typed exception. It pays off with many concurrent callers writing
    /// fresh rows on a durable server (<c>fsync</c> and <c>synchronous_commit</c> on), where each separate call waits for its
    /// own commit; see docs/scaling.md for the measured figures. Tables whose conflict target is an expression, or with an
    /// array column, are written call by call.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool CoalesceWrites { get; set; }

    /// <summary>
    /// Gets or sets the most rows one coalesced statement carries (see <see cref="CoalesceWrites"/>); the rest of the queue
    /// leaves with the next one.
    /// </summary>
    /// <value>The default value is 256.</value>
    [Range(2, 10_000)]
    public int MaxCoalescedRows { get; set; } = WriterConstants.DefaultMaxCoalescedRows;

    /// <summary>
    /// Gets or sets the retry strategy for idempotent operations (<c>InsertOrGetAsync</c>, <c>UpsertAsync</c>, and
    /// <c>ExecuteInTransactionAsync</c>) outside a caller's transaction.
    /// </summary>
    /// <value>The default value is a <see cref="PostgresRetryStrategyOptions"/>: 6 retries, exponential backoff from 100 ms with jitter.</value>
    [ValidateObjectMembers]
    public PostgresRetryStrategyOptions Retry { get; set; } = new();

    /// <summary>
    /// Gets or sets the total time an idempotent operation may take, retries included; the server-side query is cancelled when it expires.
    /// </summary>
    /// <value>The default value is 30 seconds. It must be positive and at most one day.</value>
    public TimeSpan Timeout { get; set; } = WriterConstants.DefaultTimeout;

    /// <summary>
    /// Gets or sets a value indicating whether the writer's statements are prepared on each physical connection.
    /// <para/>
    /// Prepared statements skip parsing and planning on every call. Turn it off behind a pooler that cannot track them,
    /// such as PgBouncer in transaction mode before version 1.21 or without <c>max_prepared_statements</c>.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool PrepareStatements { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the writer repairs a drifted sequence by itself: when an insert outside a
    /// caller's transaction conflicts on a key the database generated (<see cref="UniqueViolationException.IsGeneratedKey"/>),
    /// the writer moves that column's sequence past the data with <see cref="SequenceDoctor.RepairColumnAsync"/>, logs a
    /// warning, counts <c>idempotent_writes.sequence.repairs</c>, and retries the insert once.
    /// <para/>
    /// Off by default: repairing needs <c>UPDATE</c> on the sequence and briefly locks the table against writes.
    /// Inside a caller's transaction the writer never heals (the repair's lock would wait on that transaction).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool HealSequences { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether connections go through a pooler in transaction mode (PgBouncer
    /// <c>pool_mode = transaction</c>, which before version 1.21 keeps no prepared statements), so that consecutive
    /// transactions of one client connection may run on different server connections.
    /// <para/>
    /// When <see langword="true"/>, the writer never prepares statements (whatever <see cref="PrepareStatements"/> says), and a data
    /// source built from <see cref="ConnectionString"/> gets <c>No Reset On Close=true</c> and <c>Max Auto Prepare=0</c>.
    /// With your own <c>NpgsqlDataSource</c>, set those two in its connection string. Every writer statement already runs
    /// in one transaction (one round trip), so nothing else changes.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool TransactionPooling { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every table mapping is checked against the database catalog when the host starts,
    /// so a mismatch (missing column, no matching unique index, deferrable arbiter, ...) fails startup with a <see cref="TableMappingException"/>.
    /// <para/>
    /// When <see langword="false"/>, or without a host, each mapping is checked on its first use.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool ValidateMappingsOnStartup { get; set; } = true;

    /// <summary>
    /// Gets or sets the System.Text.Json options used for properties stored in <c>json</c> / <c>jsonb</c> columns whose type is
    /// neither <see cref="string"/> nor one of System.Text.Json's document types (<c>JsonDocument</c>, <c>JsonElement</c>,
    /// <c>JsonNode</c>), for example a POCO or a <c>List&lt;T&gt;</c>.
    /// <para/>
    /// The mapping check asks these options for each such type's contract, so a type they cannot serialize (for example with
    /// reflection disabled and no source-generated context for it) is refused when the mapping is checked, before any write.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="System.Text.Json.JsonSerializerOptions.Default"/>.</value>
    public System.Text.Json.JsonSerializerOptions? JsonSerializerOptions { get; set; }
}

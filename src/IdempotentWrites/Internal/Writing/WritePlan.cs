// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Mapping;

namespace IdempotentWrites.Internal.Writing;

// Everything an operation on one mapped table needs, generated once from the mapping and the catalog.
internal sealed class WritePlan
{
    private RowAccess? _access;
    private RoundTrip?[]? _roundTrips;

    public required TableMapping Mapping { get; init; }

    // How each column's values are sent and read (types from the catalog).
    public required ColumnCodecs Codecs { get; init; }

    // INSERT … ON CONFLICT <arbiter> DO NOTHING RETURNING <columns>; parameters: InsertColumns.
    public required string InsertOrGetSql { get; init; }

    // SELECT <columns> FROM <table> WHERE <arbiter key matches>; parameters: ReselectParameters (indexes into InsertColumns).
    public required string ReselectSql { get; init; }

    public required int[] ReselectParameters { get; init; }

    // INSERT … ON CONFLICT DO UPDATE … RETURNING <columns>, (xmax = 0); null when there is nothing to update.
    public required string? UpsertSql { get; init; }

    // Used instead of UpsertSql when the role cannot read xmax (no table-level SELECT): UPDATE … WHERE <key> AND the row
    // differs … RETURNING <columns>, sent after InsertOrGetSql's insert found a conflict. Parameters: InsertColumns.
    public string? UpdateSql { get; init; }

    // The columns an upsert overwrites on conflict.
    public IReadOnlyList<ColumnMapping> UpdateColumns { get; init; } = [];

    // Set when the role lacks UPDATE on UpdateColumns: the message every upsert call throws, naming the GRANT.
    public string? UpsertDenied { get; init; }

    // Privileges, triggers and row security of the table, as the connected role sees them.
    public TableFacts? Facts { get; init; }

    // INSERT … RETURNING <columns>, no conflict handling.
    public required string InsertSql { get; init; }

    // Key columns whose null value would make ON CONFLICT never fire (NULLS DISTINCT): refused at call time.
    public required IReadOnlyList<ColumnMapping> NonNullableKeyColumns { get; init; }

    public IReadOnlyList<string> ArbiterIndexes { get; init; } = [];

    // The arbiter's key as resolved against the catalog, for the bulk statements (which match keys in SQL, not by parameters).
    public IReadOnlyList<KeyElement> Keys { get; init; } = [];

    public string? Predicate { get; init; }

    public bool NullsNotDistinct { get; init; }

    // The commands kept per server backend for the statements a call sends alone (see KeptCommands).
    public StatementCommands InsertOrGetCommands { get; } = new();

    public StatementCommands ReselectCommands { get; } = new(reselect: true);

    public StatementCommands UpsertCommands { get; } = new();

    public StatementCommands InsertCommands { get; } = new();

    // The batches kept per server backend for insert-or-get's INSERT … DO NOTHING and re-select in one round trip.
    public BatchCommands InsertOrGetBatches { get; } = new();

    // Typed access to the rows' properties (parameters, key checks, returned rows); built at first use.
    public RowAccess Access => _access ??= RowAccess.Create(Mapping, Codecs, NonNullableKeyColumns);

    // The first round trip of each operation (see RoundTrip.Build); built at first use.
    public RoundTrip?[] RoundTrips => _roundTrips ??= RoundTrip.Build(this);
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Bulk;

// The target of a bulk operation: the table, the columns staged and written, and the arbiter's key as SQL over
// unqualified column names (valid over the staging table, whose columns carry the table's names, and over the table).
internal sealed class BulkTable
{
    public required string? Schema { get; init; }

    public required string Table { get; init; }

    public string DisplayName => Sql.DisplayName(Schema, Table);

    public string QualifiedName => Sql.QualifiedName(Schema, Table);

    public required IReadOnlyList<BulkColumn> Columns { get; init; }

    // SQL expressions: a quoted column name, or an index expression such as lower((email)::text).
    public required IReadOnlyList<string> Keys { get; init; }

    public required string ArbiterClause { get; init; }

    public string? Predicate { get; init; }

    public bool NullsNotDistinct { get; init; }

    // Columns an upsert sets from the incoming row (quoted); empty: an upsert is an insert-or-skip.
    public IReadOnlyList<string> UpdateColumns { get; init; } = [];

    // Columns returned for WrittenRows (quoted), in the order the materializer reads them.
    public IReadOnlyList<string> ReturningColumns { get; init; } = [];

    // Whether a chunk may look its keys up before it writes (BulkSql.CreateProbe): the table has no BEFORE INSERT row trigger
    // (which could change a key after the lookup) and no row security (the lookup would miss rows a policy hides), the role may
    // read it, it is not partitioned (the rows found are checked by ctid, which each partition numbers on its own), and NULL
    // keys are distinct (a lookup by equality finds every conflict).
    public bool ProbeFirst { get; init; }

    // Explicit values for GENERATED ALWAYS AS IDENTITY columns (an import keeps the source's ids).
    public bool OverridingSystemValue { get; init; }
}

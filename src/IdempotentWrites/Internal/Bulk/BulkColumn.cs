// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Bulk;

// One column a bulk operation stages and writes. DataTypeName is what the binary COPY writes the value as (the column's
// type, or the base type of a domain), so a CLR int goes into a bigint column without a cast in SQL.
internal sealed record BulkColumn(string Name, string DataTypeName)
{
    public string Quoted { get; } = Sql.Quote(Name);
}

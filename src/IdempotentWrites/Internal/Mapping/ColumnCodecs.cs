// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Mapping;

// The codecs of one mapping: All in Mapping.Columns order (the select list), Insert in Mapping.InsertColumns order
// (the parameters).
internal sealed class ColumnCodecs
{
    public ColumnCodecs(IReadOnlyList<ColumnCodec> all)
    {
        All = all;
        Insert = [.. all.Where(c => !c.Column.IsGenerated)];
        SelectList = string.Join(", ", all.Select(c => c.Select));
    }

    public IReadOnlyList<ColumnCodec> All { get; }

    public IReadOnlyList<ColumnCodec> Insert { get; }

    public string SelectList { get; }

    public ColumnCodec Of(ColumnMapping column) => All.First(c => ReferenceEquals(c.Column, column));

    // $n cast to the column's type: the server compares and stores with the column's own semantics.
    public string Parameter(int position, ColumnMapping column) => $"${position}::{Of(column).ParameterCast}";
}

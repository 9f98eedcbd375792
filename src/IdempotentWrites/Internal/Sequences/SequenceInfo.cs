// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Sequences;

// A sequence as discovered in the catalog, with every column that draws from it and the role's privileges.
internal sealed class SequenceInfo
{
    public required uint Oid { get; init; }

    public required string Schema { get; init; }

    public required string Name { get; init; }

    public required long Start { get; init; }

    public required long Increment { get; init; }

    public required long Min { get; init; }

    public required long Max { get; init; }

    public required bool Cycle { get; init; }

    public required long Cache { get; init; }

    public required bool SchemaUsage { get; init; }

    public required bool CanSelect { get; init; }

    public required bool CanUsage { get; init; }

    public required bool CanUpdate { get; init; }

    public List<SequenceLink> Links { get; } = [];

    public string QualifiedName => Sql.QualifiedName(Schema, Name);

    public string DisplayName => SequenceText.Name(Schema, Name);

    public bool IsDescending => Increment < 0;

    public IEnumerable<SequenceLink> Compared => Links.Where(l => l.IsCompared);

    // The bounds a value handed out can really take: the sequence's own, narrowed to the smallest column type fed.
    public (long Min, long Max) EffectiveBounds()
    {
        var min = Min;
        var max = Max;
        foreach (var link in Compared)
        {
            var (typeMin, typeMax) = link.TypeBounds;
            min = Math.Max(min, typeMin);
            max = Math.Min(max, typeMax);
        }

        return (min, max);
    }

    public IReadOnlyList<SequenceColumn> ToColumns() => [.. Links.Select(l => l.ToColumn())];
}

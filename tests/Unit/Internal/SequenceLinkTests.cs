// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Sequences;
using static IdempotentWrites.UnitTests.Internal.SequenceMathTests;

namespace IdempotentWrites.UnitTests.Internal;

public class SequenceLinkTests
{
    [Theory]
    [InlineData("nextval('users_id_seq'::regclass)")]
    [InlineData("nextval('\"Odd Schema\".\"My Seq\"'::regclass)")]
    [InlineData("nextval('it''s_seq'::regclass)")]
    [InlineData("(nextval('s'::regclass))::integer")]
    public void PlainNextvalDefault_Compared(string expression)
    {
        var link = Link("public", "t", "id", "int4", SequenceColumnKind.DefaultNextval, expression);

        Assert.True(link.IsCompared);
        Assert.Null(link.NotComparedReason);
    }

    [Fact]
    public void ExpressionOverNextval_NotCompared()
    {
        var link = Link("public", "t", "code", "int8", SequenceColumnKind.DefaultNextval, "('INV-'::text || nextval('s'::regclass))");

        Assert.False(link.IsCompared);
        Assert.Equal("its default (('INV-'::text || nextval('s'::regclass))) is not a plain nextval(), so its values are not the sequence's", link.NotComparedReason);
    }

    [Fact]
    public void NonIntegerColumn_NotCompared()
        => Assert.Equal("its type numeric is not smallint, integer or bigint", Link("public", "t", "id", "numeric").NotComparedReason);

    [Fact]
    public void Identity_AlwaysCompared() => Assert.True(Link("public", "t", "id", "int4", SequenceColumnKind.IdentityAlways, null).IsCompared);

    [Fact]
    public void DropCoveredPartitions_KeepsTheTopmostTableDrawingFromTheSequence()
    {
        var sequence = Sequence(1, 1, 1, long.MaxValue);
        sequence.Links.Clear();
        sequence.Links.Add(Link("s", "parent", "id", relKind: 'p', tableOid: 1));
        sequence.Links.Add(Link("s", "part_a", "id", tableOid: 2) with { IsPartition = true, Ancestors = [1] });
        sequence.Links.Add(Link("s", "sub_parent", "id", relKind: 'p', tableOid: 3) with { IsPartition = true, Ancestors = [1] });
        sequence.Links.Add(Link("s", "sub_leaf", "id", tableOid: 4) with { IsPartition = true, Ancestors = [3, 1] });
        sequence.Links.Add(Link("s", "orphan_part", "id", tableOid: 5) with { IsPartition = true, Ancestors = [99] });

        SequenceCatalog.DropCoveredPartitions(sequence);

        Assert.Equal(["parent", "orphan_part"], sequence.Links.Select(l => l.Table));
    }

    [Theory]
    [InlineData("users", "users")]
    [InlineData("Users", "\"Users\"")]
    [InlineData("my table", "\"my table\"")]
    [InlineData("a\"b", "\"a\"\"b\"")]
    [InlineData("_x9$", "_x9$")]
    [InlineData("9lives", "\"9lives\"")]
    public void SequenceText_Ident_QuotedOnlyWhenNeeded(string name, string expected) => Assert.Equal(expected, SequenceText.Ident(name));
}

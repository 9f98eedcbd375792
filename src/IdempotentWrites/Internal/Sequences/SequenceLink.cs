// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.RegularExpressions;
using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Sequences;

// One column drawing from a sequence (identity, or a column default that references it).
internal sealed partial record SequenceLink(
    uint TableOid,
    string Schema,
    string Table,
    char RelKind,
    bool IsPartition,
    IReadOnlyList<uint> Ancestors,
    string Column,
    short AttNum,
    string DataType,
    uint BaseTypeOid,
    SequenceColumnKind Kind,
    string? DefaultExpression,
    bool NotNull,
    bool CanRead,
    bool RowSecurityActive,
    bool CanLock)
{
    private const uint Int2 = 21;
    private const uint Int4 = 23;
    private const uint Int8 = 20;

    public bool IsPartitioned => RelKind == 'p';

    public bool IsIntegerColumn => BaseTypeOid is Int2 or Int4 or Int8;

    public bool IsPlainNextval => Kind is SequenceColumnKind.IdentityAlways or SequenceColumnKind.IdentityByDefault
        || (DefaultExpression is not null && PlainNextval().IsMatch(DefaultExpression));

    public bool IsCompared => IsIntegerColumn && IsPlainNextval;

    public string? NotComparedReason => !IsPlainNextval
        ? $"its default ({DefaultExpression}) is not a plain nextval(), so its values are not the sequence's"
        : !IsIntegerColumn ? $"its type {DataType} is not smallint, integer or bigint" : null;

    public string QualifiedTable => Sql.QualifiedName(Schema, Table);

    public string DisplayName => SequenceText.Name(Schema, Table, Column);

    public (long Min, long Max) TypeBounds => BaseTypeOid switch
    {
        Int2 => (short.MinValue, short.MaxValue),
        Int4 => (int.MinValue, int.MaxValue),
        _ => (long.MinValue, long.MaxValue),
    };

    public SequenceColumn ToColumn() => new(Schema, Table, Column, Kind, DataType, IsPartitioned, NotComparedReason);

    // How pg_get_expr prints a default that is nothing but nextval() on one sequence, possibly cast to the column type.
    [GeneratedRegex(@"^\(?nextval\('(?:[^']|'')+'::regclass\)\)?(?:::[a-z ]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNextval();
}

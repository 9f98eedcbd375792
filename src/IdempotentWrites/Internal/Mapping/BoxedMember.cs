// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using Npgsql;

namespace IdempotentWrites.Internal.Mapping;

// Reflection over the property, values boxed: without dynamic code, and the reference for what typed members return.
internal sealed class BoxedMember(ColumnCodec codec) : MemberAccess(codec)
{
    public override NpgsqlParameter Parameter(object row) => Codec.Parameter(Codec.Column.GetValue(row));

    public override bool IsNull(object row) => Codec.Column.GetValue(row) is null;

    public override void Read(NpgsqlDataReader reader, int ordinal, object row)
        => Codec.Column.Property.SetValue(row, ReadBoxed(reader, ordinal));

    public override Expression? ReadExpression(ParameterExpression reader, Expression ordinal) => Boxed(reader, ordinal);
}

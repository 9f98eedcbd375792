// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Mapping;

// A Nullable<TValue> property: parameters and reads typed as TValue, null as DBNull (see RowAccess).
internal sealed class NullableMember<TRow, TValue> : MemberAccess
    where TRow : class
    where TValue : struct
{
    private readonly Func<TRow, TValue?> _get;
    private readonly Action<TRow, TValue?>? _set;
    private readonly NpgsqlDbType? _wireType;
    private readonly bool _writesAsIs;
    private readonly bool _readsAsIs;
    private readonly bool _atUtc;
    private int _read;

    public NullableMember(ColumnCodec codec)
        : base(codec)
    {
        var property = codec.Column.Property;
        _get = property.GetMethod!.CreateDelegate<Func<TRow, TValue?>>();
        _set = property.SetMethod is { IsPublic: true } setter ? setter.CreateDelegate<Action<TRow, TValue?>>() : null;
        _wireType = ExplicitWireType<TValue>(codec.WireType);
        _atUtc = codec.InstantAtUtc && typeof(TValue) == typeof(DateTimeOffset);
        _writesAsIs = !codec.ConvertsOnWrite || _atUtc;
        _readsAsIs = !codec.ConvertsOnRead || _atUtc;
    }

    public override NpgsqlParameter Parameter(object row)
    {
        var value = _get(Unsafe.As<TRow>(row));
        if (_atUtc && value is { } instant)
        {
            // What the codec's conversion does (see TypedMember).
            value = (TValue)(object)((DateTimeOffset)(object)instant).ToUniversalTime();
        }

        return _writesAsIs && value is { } present ? TypedParameter(present, _wireType) : Codec.Parameter(value);
    }

    public override bool IsNull(object row) => _get(Unsafe.As<TRow>(row)) is null;

    public override bool Rebinds => _writesAsIs;

    public override bool TryRebind(NpgsqlParameter parameter, object row)
    {
        if (!_writesAsIs || parameter is not NpgsqlParameter<TValue> typed || _get(Unsafe.As<TRow>(row)) is not { } value)
        {
            return false;
        }

        typed.TypedValue = _atUtc ? (TValue)(object)((DateTimeOffset)(object)value).ToUniversalTime() : value;
        return true;
    }

    // A value type's parameter holds no reference to keep alive.
    public override void Clear(NpgsqlParameter parameter)
    {
    }

    public override void Read(NpgsqlDataReader reader, int ordinal, object row)
        => _set!(
            Unsafe.As<TRow>(row),
            ReadsTyped<TValue>(ref _read, _readsAsIs, reader, ordinal)
                ? reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<TValue>(ordinal)
                : (TValue?)ReadBoxed(reader, ordinal));

    public override Expression? ReadExpression(ParameterExpression reader, Expression ordinal) => _read switch
    {
        0 => null,
        1 => Typed<TValue>(reader, ordinal, Expression.Constant(null, typeof(TValue?))),
        _ => Boxed(reader, ordinal),
    };
}

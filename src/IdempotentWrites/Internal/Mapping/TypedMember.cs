// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Mapping;

// A property of a reference or non-nullable value type, through delegates over its accessors (see RowAccess).
internal sealed class TypedMember<TRow, TValue> : MemberAccess
    where TRow : class
{
    private readonly Func<TRow, TValue> _get;
    private readonly Action<TRow, TValue>? _set;
    private readonly NpgsqlDbType? _wireType;
    private readonly bool _writesAsIs;
    private readonly bool _readsAsIs;
    private readonly bool _atUtc;
    private int _read; // 0: not decided yet, 1: GetFieldValue<TValue>, 2: the codec's boxed path

    public TypedMember(ColumnCodec codec)
        : base(codec)
    {
        var property = codec.Column.Property;
        _get = property.GetMethod!.CreateDelegate<Func<TRow, TValue>>();
        _set = property.SetMethod is { IsPublic: true } setter ? setter.CreateDelegate<Action<TRow, TValue>>() : null;
        _wireType = ExplicitWireType<TValue>(codec.WireType);
        // NpgsqlParameter<TValue> resolves its type from TValue, the untyped parameter from the value's runtime type: the two
        // agree only when TValue has no subtypes (a value type or a sealed class: string, arrays).
        _atUtc = codec.InstantAtUtc && typeof(TValue) == typeof(DateTimeOffset);
        _writesAsIs = (!codec.ConvertsOnWrite || _atUtc) && (typeof(TValue).IsValueType || typeof(TValue).IsSealed);
        _readsAsIs = !codec.ConvertsOnRead || _atUtc;
    }

    public override NpgsqlParameter Parameter(object row)
    {
        var value = _get(Unsafe.As<TRow>(row));
        if (_atUtc)
        {
            // What the codec's conversion does (JIT-folded to a no-op for every other TValue).
            value = (TValue)(object)((DateTimeOffset)(object)value!).ToUniversalTime();
        }

        return _writesAsIs && value is not null ? TypedParameter(value, _wireType) : Codec.Parameter(value);
    }

    public override bool IsNull(object row) => _get(Unsafe.As<TRow>(row)) is null;

    public override bool Rebinds => _writesAsIs;

    public override bool TryRebind(NpgsqlParameter parameter, object row)
    {
        if (!_writesAsIs || parameter is not NpgsqlParameter<TValue> typed)
        {
            return false;
        }

        var value = _get(Unsafe.As<TRow>(row));
        if (value is null)
        {
            return false;
        }

        if (_atUtc)
        {
            value = (TValue)(object)((DateTimeOffset)(object)value).ToUniversalTime();
        }

        typed.TypedValue = value;
        return true;
    }

    public override void Clear(NpgsqlParameter parameter)
    {
        if (!typeof(TValue).IsValueType && parameter is NpgsqlParameter<TValue> typed)
        {
            typed.TypedValue = default;
        }
    }

    public override void Read(NpgsqlDataReader reader, int ordinal, object row)
        => _set!(
            Unsafe.As<TRow>(row),
            ReadsTyped<TValue>(ref _read, _readsAsIs, reader, ordinal)
                ? reader.IsDBNull(ordinal) ? (TValue)ValueConverter.ToClr(null, typeof(TValue))! : reader.GetFieldValue<TValue>(ordinal)
                : (TValue)ReadBoxed(reader, ordinal)!);

    public override Expression? ReadExpression(ParameterExpression reader, Expression ordinal) => _read switch
    {
        0 => null,
        // A non-nullable value type cannot hold a NULL: read without asking IsDBNull (see Typed).
        1 => Typed<TValue>(reader, ordinal, typeof(TValue).IsValueType ? null : Expression.Constant(null, typeof(TValue))),
        _ => Boxed(reader, ordinal),
    };
}

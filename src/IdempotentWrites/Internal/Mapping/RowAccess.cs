// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Reflection;

namespace IdempotentWrites.Internal.Mapping;

// The one home of per-call row access: a row's properties read into typed parameters, and a returned row set property by
// property, without boxing or reflection per call. Built once per plan. A member is typed (NpgsqlParameter<TValue>,
// GetFieldValue<TValue>, delegates over the accessors) where its codec passes values through unchanged and the runtime can
// create generic code; otherwise, and for rows built through a constructor, the codec's boxed path is used, which gives
// the same values (the typed path only runs where the two cannot differ).
internal sealed class RowAccess
{
    private readonly ConstructorInvoker? _create;

    private RowAccess(MemberAccess[] insert, MemberAccess[] all, MemberAccess[] keys, ConstructorInvoker? create)
    {
        Insert = insert;
        All = all;
        NonNullableKeys = keys;
        _create = create;
    }

    // Codecs.Insert order (the parameters).
    public MemberAccess[] Insert { get; }

    // Codecs.All order (the select list).
    public MemberAccess[] All { get; }

    // The key members that must not be null (see WritePlan.NonNullableKeyColumns).
    public MemberAccess[] NonNullableKeys { get; }

    // Whether Create and MemberAccess.Read build rows (a public parameterless constructor and a setter for every column);
    // otherwise rows come from the mapping's factory.
    public bool CreatesRows => _create is not null;

    public static RowAccess Create(TableMapping mapping, ColumnCodecs codecs, IReadOnlyList<ColumnMapping> nonNullableKeys)
    {
        var all = codecs.All.Select(c => MemberAccess.Create(mapping.RowType, c)).ToArray();
        var insert = codecs.Insert.Select(c => all[IndexOf(codecs.All, c)]).ToArray();
        var keys = nonNullableKeys.Select(k => all.First(m => ReferenceEquals(m.Codec.Column, k))).ToArray();
        var settable = mapping.Columns.All(c => c.Property.SetMethod is { IsPublic: true });
        var create = mapping.ParameterlessConstructor is { } constructor && settable ? ConstructorInvoker.Create(constructor) : null;
        return new RowAccess(insert, all, keys, create);
    }

    public object CreateRow() => _create!.Invoke();

    private static int IndexOf(IReadOnlyList<ColumnCodec> codecs, ColumnCodec codec)
    {
        for (var i = 0; i < codecs.Count; i++)
        {
            if (ReferenceEquals(codecs[i], codec))
            {
                return i;
            }
        }

        throw new InvalidOperationException("The codec is not one of the mapping's.");
    }
}

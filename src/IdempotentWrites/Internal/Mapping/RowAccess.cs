// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using Npgsql;

namespace IdempotentWrites.Internal.Mapping;

// The one home of per-call row access: a row's properties read into typed parameters, and a returned row set property by
// property, without boxing or reflection per call. Built once per plan. A member is typed (NpgsqlParameter<TValue>,
// GetFieldValue<TValue>, delegates over the accessors) where its codec passes values through unchanged and the runtime can
// create generic code; otherwise, and for rows built through a constructor, the codec's boxed path is used, which gives
// the same values (the typed path only runs where the two cannot differ).
internal sealed class RowAccess
{
    private readonly ConstructorInfo? _constructor;
    private readonly ConstructorInvoker? _create;
    private Func<NpgsqlDataReader, int, object>? _compiled;
    private bool _uncompilable;

    private RowAccess(MemberAccess[] insert, MemberAccess[] all, MemberAccess[] keys, ConstructorInfo? constructor)
    {
        Insert = insert;
        Rebinds = insert.All(m => m.Rebinds);
        All = all;
        NonNullableKeys = keys;
        _constructor = constructor;
        _create = constructor is null ? null : ConstructorInvoker.Create(constructor);
    }

    // Codecs.Insert order (the parameters).
    public MemberAccess[] Insert { get; }

    // Whether every parameter can be set again on a kept command (see StatementCommands).
    public bool Rebinds { get; }

    // Codecs.All order (the select list).
    public MemberAccess[] All { get; }

    // The key members that must not be null (see WritePlan.NonNullableKeyColumns).
    public MemberAccess[] NonNullableKeys { get; }

    // Whether Create and MemberAccess.Read build rows (a public parameterless constructor and a setter for every column);
    // otherwise rows come from the mapping's factory.
    public bool CreatesRows => _create is not null;

    // One delegate that reads a whole row (see Compile); null until the first read has decided every member's path, and
    // without dynamic code.
    public Func<NpgsqlDataReader, int, object>? Compiled => _compiled;

    public static RowAccess Create(TableMapping mapping, ColumnCodecs codecs, IReadOnlyList<ColumnMapping> nonNullableKeys)
    {
        var all = codecs.All.Select(c => MemberAccess.Create(mapping.RowType, c)).ToArray();
        var insert = codecs.Insert.Select(c => all[IndexOf(codecs.All, c)]).ToArray();
        var keys = nonNullableKeys.Select(k => all.First(m => ReferenceEquals(m.Codec.Column, k))).ToArray();
        var settable = mapping.Columns.All(c => c.Property.SetMethod is { IsPublic: true });
        return new RowAccess(insert, all, keys, settable ? mapping.ParameterlessConstructor : null);
    }

    public object CreateRow() => _create!.Invoke();

    // After a row was read member by member (which decides each member's path at its first read): the same reads compiled
    // into one delegate, new TRow { P = reader.GetInt64(offset + i), … } (GetFieldValue<TValue> where Npgsql has no named
    // getter), with no virtual call, delegate or reflection per column. Racing callers compile the same reader; one of them is kept.
    [UnconditionalSuppressMessage(
        "AOT",
        "IL3050",
        Justification = "Only where IsDynamicCodeSupported; otherwise rows are read member by member.")]
    [UnconditionalSuppressMessage(
        "Trimming",
        "IL2026",
        Justification = "The expression only names the row type's mapped properties and constructor, which the mapping keeps.")]
    public void Compile()
    {
        if (_compiled is not null || _uncompilable || _constructor is null || !RuntimeFeature.IsDynamicCodeSupported)
        {
            return;
        }

        try
        {
            _compiled = CompileReader(_constructor);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or MemberAccessException)
        {
            // Never a reason to fail a read: the row was just read member by member, and every later one is.
            _uncompilable = true;
        }
    }

    // The compiled reader failed in a way no row explains: rows are read member by member from now on.
    public void Discard()
    {
        _uncompilable = true;
        _compiled = null;
    }

    [RequiresDynamicCode("Compiles an expression.")]
    [RequiresUnreferencedCode("Names the row type's properties.")]
    private Func<NpgsqlDataReader, int, object>? CompileReader(ConstructorInfo constructor)
    {
        var reader = Expression.Parameter(typeof(NpgsqlDataReader), "reader");
        var offset = Expression.Parameter(typeof(int), "offset");
        var row = Expression.Variable(constructor.DeclaringType!, "row");
        var body = new List<Expression>(All.Length + 2) { Expression.Assign(row, Expression.New(constructor)) };
        for (var i = 0; i < All.Length; i++)
        {
            var ordinal = i == 0 ? (Expression)offset : Expression.Add(offset, Expression.Constant(i));
            if (All[i].ReadExpression(reader, ordinal) is not { } value)
            {
                return null;
            }

            body.Add(Expression.Assign(Expression.Property(row, All[i].Codec.Column.Property), value));
        }

        body.Add(Expression.Convert(row, typeof(object)));
        return Expression.Lambda<Func<NpgsqlDataReader, int, object>>(Expression.Block([row], body), reader, offset).Compile();
    }

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

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Mapping;

// One mapped property as a call uses it.
internal abstract class MemberAccess(ColumnCodec codec)
{
    public ColumnCodec Codec { get; } = codec;

    // The statement parameter for this property's value in row, typed like the column.
    public abstract NpgsqlParameter Parameter(object row);

    public abstract bool IsNull(object row);

    // Sets this property's value in row on a parameter that Parameter made for an earlier row, when it takes a parameter of
    // that same shape (see StatementCommands). The boxed path's parameters are never set again.
    public virtual bool TryRebind(NpgsqlParameter parameter, object row) => false;

    // Whether TryRebind can succeed (for non-null values).
    public virtual bool Rebinds => false;

    // Drops the value a parameter holds (TryRebind sets it again).
    public virtual void Clear(NpgsqlParameter parameter) => parameter.Value = null;

    // Reads the column at ordinal into this property of row (built by RowAccess.CreateRow).
    public abstract void Read(NpgsqlDataReader reader, int ordinal, object row);

    // What Read assigns, as an expression over reader and ordinal for RowAccess's compiled reader; null while the first read
    // has not decided the path yet.
    public abstract Expression? ReadExpression(ParameterExpression reader, Expression ordinal);

    [UnconditionalSuppressMessage(
        "AOT",
        "IL3050",
        Justification = "Only where IsDynamicCodeSupported; without dynamic code the boxed member gives the same values.")]
    [UnconditionalSuppressMessage(
        "Trimming",
        "IL2076",
        Justification = "CreateNullable's TValue is a struct, whose parameterless constructor always exists.")]
    [UnconditionalSuppressMessage(
        "Trimming",
        "IL2060",
        Justification = "The generic methods have no annotated type parameters; the row type's members are kept by the mapping.")]
    public static MemberAccess Create(Type rowType, ColumnCodec codec)
    {
        var property = codec.Column.Property;
        if (!RuntimeFeature.IsDynamicCodeSupported || property.GetMethod is not { IsPublic: true } || property.DeclaringType is null
            || property.PropertyType.IsByRef || property.PropertyType.IsPointer || rowType.IsValueType)
        {
            return new BoxedMember(codec);
        }

        var underlying = Nullable.GetUnderlyingType(property.PropertyType);
        var method = underlying is null
            ? typeof(MemberAccess).GetMethod(nameof(CreateTyped), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(rowType, property.PropertyType)
            : typeof(MemberAccess).GetMethod(nameof(CreateNullable), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(rowType, underlying);
        return (MemberAccess)method.Invoke(null, [codec])!;
    }

    private static MemberAccess CreateTyped<TRow, TValue>(ColumnCodec codec)
        where TRow : class
        => new TypedMember<TRow, TValue>(codec);

    private static MemberAccess CreateNullable<TRow, TValue>(ColumnCodec codec)
        where TRow : class
        where TValue : struct
        => new NullableMember<TRow, TValue>(codec);

    // The NpgsqlDbType a typed parameter of TValue carries: none where Npgsql infers that same type from TValue alone, for
    // types whose inferred type does not depend on the value. An explicit NpgsqlDbType costs a lookup by type name per
    // parameter and call (NpgsqlParameter.ResolveTypeInfo); the statement's parameter types, and so its prepared form, are
    // the same either way.
    protected static NpgsqlDbType? ExplicitWireType<TValue>(NpgsqlDbType? wire)
        => wire is { } type && InferredFromType.Contains(typeof(TValue)) && new NpgsqlParameter<TValue>().NpgsqlDbType == type ? null : wire;

    private static readonly HashSet<Type> InferredFromType =
    [
        typeof(string), typeof(long), typeof(int), typeof(short), typeof(bool), typeof(Guid), typeof(double), typeof(float),
        typeof(decimal), typeof(byte[]), typeof(DateOnly), typeof(TimeOnly),
    ];

    // Whether GetFieldValue<TValue> reads this column as GetValue followed by ValueConverter.ToClr would: decided at the
    // first read (the select list, and so each field's type, is fixed per plan). timestamptz is read by GetValue as a UTC
    // DateTime that ToClr turns into a DateTimeOffset at offset 0, which is what GetFieldValue<DateTimeOffset> returns.
    protected static bool ReadsAsIs<TValue>(NpgsqlDataReader reader, int ordinal)
        => reader.GetFieldType(ordinal) == typeof(TValue)
            || (typeof(TValue) == typeof(DateTimeOffset) && reader.GetDataTypeName(ordinal) == "timestamp with time zone");

    // A parameter typed as TValue (no boxing), with the NpgsqlDbType ExplicitWireType chose.
    protected static NpgsqlParameter TypedParameter<TValue>(TValue value, NpgsqlDbType? wireType)
    {
        var parameter = new NpgsqlParameter<TValue> { TypedValue = value };
        if (wireType is { } wire)
        {
            parameter.NpgsqlDbType = wire;
        }

        return parameter;
    }

    // Whether this column is read with GetFieldValue<TValue>: state is 0 until the first read decides it (1 typed, 2 the
    // codec's boxed path). Racing first reads decide the same.
    protected static bool ReadsTyped<TValue>(ref int state, bool readsAsIs, NpgsqlDataReader reader, int ordinal)
    {
        if (state == 0)
        {
            state = readsAsIs && ReadsAsIs<TValue>(reader, ordinal) ? 1 : 2;
        }

        return state == 1;
    }

    // The codec's own path: GetValue, its conversion, then ToClr; the same values as before typed access existed.
    public object? ReadBoxed(NpgsqlDataReader reader, int ordinal)
        => ValueConverter.ToClr(Codec.Read(reader, ordinal), Codec.Column.Property.PropertyType);

    // The expressions of the two paths, the same calls as Read makes (built only where dynamic code is supported).
    // whenNull: the value of a NULL column, or null to read without asking IsDBNull (for a type that cannot hold a NULL:
    // GetFieldValue then throws InvalidCastException, and RowReader reads the row again member by member, where Read gives
    // ToClr's error).
    [UnconditionalSuppressMessage(
        "AOT",
        "IL3050",
        Justification = "Only RowAccess.Compile builds it, where IsDynamicCodeSupported.")]
    [UnconditionalSuppressMessage(
        "Trimming",
        "IL2060",
        Justification = "GetFieldValue<T> has no annotated type parameter.")]
    protected static Expression Typed<TValue>(ParameterExpression reader, Expression ordinal, Expression? whenNull)
    {
        var getter = TypedGetters.TryGetValue(typeof(TValue), out var known) ? known : GetFieldValueMethod.MakeGenericMethod(typeof(TValue));
        Expression read = getter.IsStatic ? Expression.Call(getter, reader, ordinal) : Expression.Call(reader, getter, ordinal);
        return whenNull is null
            ? read
            : Expression.Condition(Expression.Call(reader, IsDBNullMethod, ordinal), whenNull, Expression.Convert(read, whenNull.Type));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string ReadString(NpgsqlDataReader reader, int ordinal) => reader.GetString(ordinal);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte[] ReadBytes(NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);

    protected Expression Boxed(ParameterExpression reader, Expression ordinal)
        => Expression.Convert(Expression.Call(Expression.Constant(this), ReadBoxedMethod, reader, ordinal), Codec.Column.Property.PropertyType);

    // Npgsql's GetInt64, GetGuid, … are GetFieldValue<T> for their T. A reference type's GetFieldValue<T> is shared generic
    // code, which a compiled delegate reaches through an instantiating stub and generic lookups per call: string and byte[]
    // are read by the helpers below, compiled here, where the call is made with its exact type.
    private static readonly Dictionary<Type, MethodInfo> TypedGetters = new MethodInfo[]
    {
        typeof(MemberAccess).GetMethod(nameof(ReadString), BindingFlags.NonPublic | BindingFlags.Static)!,
        typeof(MemberAccess).GetMethod(nameof(ReadBytes), BindingFlags.NonPublic | BindingFlags.Static)!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetBoolean), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetByte), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetInt16), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetInt32), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetInt64), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetFloat), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetDouble), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetDecimal), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetGuid), [typeof(int)])!,
        typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetDateTime), [typeof(int)])!,
    }.ToDictionary(m => m.ReturnType);

    private static readonly MethodInfo GetFieldValueMethod
        = typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.GetFieldValue), 1, [typeof(int)])!;

    private static readonly MethodInfo IsDBNullMethod = typeof(NpgsqlDataReader).GetMethod(nameof(NpgsqlDataReader.IsDBNull), [typeof(int)])!;

    private static readonly MethodInfo ReadBoxedMethod = typeof(MemberAccess).GetMethod(nameof(ReadBoxed))!;
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using IdempotentWrites.Internal.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.Internal.Mapping;

// How one mapped property meets its column, decided once at plan time from the CLR type and the catalog type:
// parameters are sent with a fixed wire type and cast in SQL to the column's own type (so comparisons use the column's
// equality, collation and index), values that Npgsql cannot write or read as the property type are converted here
// (enum labels, JSON, arrays, DateTime kinds), and a pairing that cannot work is refused before anything is written.
internal sealed class ColumnCodec
{
    private readonly Func<object, object>? _toWire;
    private readonly Func<object, object>? _fromDb;

    private ColumnCodec(
        ColumnMapping column,
        ColumnType type,
        string? readCast,
        NpgsqlDbType? wireType,
        string copyType,
        Func<object, object>? toWire,
        Func<object, object>? fromDb)
    {
        Column = column;
        Type = type;
        ParameterCast = type.Name;
        Select = readCast is null ? column.QuotedName : $"{column.QuotedName}::{readCast}";
        WireType = wireType;
        CopyTypeName = copyType;
        _toWire = toWire;
        _fromDb = fromDb;
        InstantAtUtc = type.Element is null && type.Base.IsBuiltIn && type.Base.TypeName == "timestamptz"
            && (Nullable.GetUnderlyingType(column.Property.PropertyType) ?? column.Property.PropertyType) == typeof(DateTimeOffset);
    }

    // System.Text.Json's reflection-based defaults, used only for property types stored as JSON. A type they cannot
    // serialize (reflection disabled in a trimmed or AOT app) is refused by the mapping check (GetTypeInfo throws there),
    // with a message that names IdempotentWritesOptions.JsonSerializerOptions; nothing fails silently after a write.
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage(
        "Trimming",
        "IL2026",
        Justification = "Checked per type at mapping time; see comment.")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Checked per type at mapping time; see comment.")]
    public static JsonSerializerOptions DefaultJsonOptions => JsonSerializerOptions.Default;

    public ColumnMapping Column { get; }

    public ColumnType Type { get; }

    // The SQL type a parameter is cast to: $n::<ParameterCast>.
    public string ParameterCast { get; }

    // The column as the select / RETURNING list reads it (cast to text where the property is read from text).
    public string Select { get; }

    public NpgsqlDbType? WireType { get; }

    // Whether values are converted on their way to a parameter / from what Npgsql reads (else they pass as they are).
    public bool ConvertsOnWrite => _toWire is not null;

    public bool ConvertsOnRead => _fromDb is not null;

    // A DateTimeOffset property on a timestamptz column: its only conversions are to offset 0 on the way in (Npgsql writes
    // no other offset to timestamptz) and from the UTC DateTime that GetValue reads, which GetFieldValue<DateTimeOffset>
    // returns as it is (offset 0), so typed access needs no conversion on the read and ToUniversalTime on the write.
    public bool InstantAtUtc { get; }

    // json has no equality operator: an upsert's IS DISTINCT FROM compares its text.
    public bool ComparesAsText => Type.Base.IsBuiltIn && Type.Base.TypeName is "json" or "xml";

    // The type name a binary COPY writes the wire value as.
    public string CopyTypeName { get; }

    public static ColumnCodec Create(ColumnMapping column, ColumnType type, JsonSerializerOptions json, string table)
    {
        var clr = Nullable.GetUnderlyingType(column.Property.PropertyType) ?? column.Property.PropertyType;
        var codec = Build(column, clr, type, json);
        return codec ?? throw new TableMappingException(table, Refusal(column, clr, type));
    }

    public object ToParameter(object? value) => value is null ? DBNull.Value : _toWire is null ? value : _toWire(value);

    public NpgsqlParameter Parameter(object? value)
    {
        var parameter = new NpgsqlParameter { Value = ToParameter(value) };
        if (WireType is { } wire)
        {
            parameter.NpgsqlDbType = wire;
        }

        return parameter;
    }

    public object? Read(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        var value = reader.GetValue(ordinal);
        return _fromDb is null ? value : _fromDb(value);
    }

    private static ColumnCodec? Build(ColumnMapping column, Type clr, ColumnType type, JsonSerializerOptions json)
    {
        var baseCopy = type.Base.CopyName;
        if (type.Element is { } element)
        {
            return BuildArray(column, clr, type, element, json);
        }

        var pg = type.Base;
        var domainRead = type.Name != pg.SqlName ? pg.SqlName : null;
        if (IsJson(pg))
        {
            var (toWire, fromDb) = JsonCodec(clr, json);
            return toWire is null ? null : new(column, type, "pg_catalog.text", NpgsqlDbType.Text, baseCopy, toWire, fromDb);
        }

        if (pg.IsEnum)
        {
            if (clr == typeof(string))
            {
                return new(column, type, "pg_catalog.text", NpgsqlDbType.Text, "pg_catalog.text", null, null);
            }

            var labels = clr.IsEnum ? EnumLabels.Create(clr, type.EnumLabels) : null;
            return labels is null
                ? null
                : new(column, type, "pg_catalog.text", NpgsqlDbType.Text, "pg_catalog.text", labels.ToLabel, labels.ToMember);
        }

        if (clr == typeof(string))
        {
            // Text types Npgsql reads natively keep their stored form (char(n) keeps its padding); every other type is
            // read through its text output, which every PostgreSQL type has.
            return pg.IsBuiltIn && pg.TypeName is "text" or "varchar" or "bpchar" or "name"
                ? new(column, type, domainRead, NpgsqlDbType.Text, pg.Category == 'S' ? "pg_catalog.text" : baseCopy, null, null)
                : new(column, type, "pg_catalog.text", NpgsqlDbType.Text, pg.Category == 'S' ? "pg_catalog.text" : baseCopy, null, null);
        }

        if (pg.Category == 'S')
        {
            // A CLR enum stored by member name in a text column.
            return clr.IsEnum
                ? new(
                    column,
                    type,
                    domainRead,
                    NpgsqlDbType.Text,
                    "pg_catalog.text",
                    static v => v.ToString()!,
                    v => Enum.Parse(clr, (string)v, ignoreCase: true))
                : null;
        }

        if (!pg.IsBuiltIn)
        {
            // An extension or user type the SDK has no rule for: Npgsql writes and reads it as it would by itself.
            return new(column, type, domainRead, null, baseCopy, null, null);
        }

        return Scalar(clr, pg) is { } scalar
            ? new(column, type, domainRead, scalar.Wire, baseCopy, scalar.ToWire, scalar.FromDb)
            : Known(pg) ? null : new(column, type, domainRead, null, baseCopy, null, null);
    }

    private static ColumnCodec? BuildArray(ColumnMapping column, Type clr, ColumnType type, PgType element, JsonSerializerOptions json)
    {
        // Elements must not be nullable value types: Npgsql reads an array as its element type's default CLR type.
        var elementClr = ElementOf(clr);
        if (elementClr is null || Nullable.GetUnderlyingType(elementClr) is not null)
        {
            return null;
        }

        var isList = !clr.IsArray;
        string? readCast = type.Name != type.Base.SqlName ? type.Base.SqlName : null;
        Func<object, object>? toWireElement;
        Func<object, object>? fromDbElement;
        NpgsqlDbType wire;
        if (elementClr == typeof(string))
        {
            (toWireElement, fromDbElement, wire) = (null, null, NpgsqlDbType.Text);
            if (!(element.IsBuiltIn && element.TypeName is "text" or "varchar" or "bpchar" or "name"))
            {
                readCast = "pg_catalog._text";
            }
        }
        else if (element.IsEnum && elementClr.IsEnum && !isList)
        {
            var labels = EnumLabels.Create(elementClr, type.EnumLabels);
            if (labels is null)
            {
                return null;
            }

            (toWireElement, fromDbElement, wire, readCast) = (labels.ToLabel, labels.ToMember, NpgsqlDbType.Text, "pg_catalog._text");
        }
        else if (element.IsBuiltIn && !IsJson(element) && element.Category != 'S' && Scalar(elementClr, element) is { } scalar)
        {
            (toWireElement, fromDbElement, wire) = (scalar.ToWire, scalar.FromDb, scalar.Wire);
        }
        else
        {
            return null;
        }

        if (isList && !Lists.Supports(elementClr))
        {
            return null;
        }

        Func<object, object>? toWire = toWireElement is null ? null : value => Arrays.ToWire(value, toWireElement, wire);
        // Npgsql reads an array as its element type's default CLR type; convert when the property wants another.
        Func<object, object>? fromDb = fromDbElement is null && !isList
            ? null
            : value => Arrays.FromDb((Array)value, clr, elementClr, fromDbElement);
        return new ColumnCodec(column, type, readCast, NpgsqlDbType.Array | wire, type.Base.CopyName, toWire, fromDb);
    }

    private static Type? ElementOf(Type clr)
    {
        if (clr.IsArray && clr != typeof(byte[]))
        {
            return clr.GetElementType();
        }

        return clr.IsGenericType && clr.GetGenericTypeDefinition() == typeof(List<>) ? clr.GetGenericArguments()[0] : null;
    }

    private static bool IsJson(PgType pg) => pg.IsBuiltIn && pg.TypeName is "json" or "jsonb";

    private static (Func<object, object>? ToWire, Func<object, object>? FromDb) JsonCodec(Type clr, JsonSerializerOptions json)
    {
        if (clr == typeof(string))
        {
            return (static v => v, null);
        }

        if (clr == typeof(JsonDocument))
        {
            return (static v => ((JsonDocument)v).RootElement.GetRawText(), static v => JsonDocument.Parse((string)v));
        }

        if (clr == typeof(JsonElement))
        {
            return (static v => ((JsonElement)v).GetRawText(), static v =>
            {
                using var document = JsonDocument.Parse((string)v);
                return document.RootElement.Clone();
            });
        }

        if (typeof(JsonNode).IsAssignableFrom(clr))
        {
            return (static v => ((JsonNode)v).ToJsonString(), v => JsonNode.Parse((string)v) is { } node && clr.IsInstanceOfType(node)
                ? node
                : throw new InvalidCastException($"The stored JSON is not a {clr.Name}."));
        }

        JsonTypeInfo info;
        try
        {
            // Throws when the options cannot serialize the type (no resolver for it, reflection disabled): at plan time.
            info = json.GetTypeInfo(clr);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return (null, null);
        }

        return (v => JsonSerializer.Serialize(v, info), v => JsonSerializer.Deserialize((string)v, info)
            ?? throw new InvalidCastException($"The stored JSON is null, which {clr.Name} cannot hold."));
    }

    private sealed record ScalarCodec(NpgsqlDbType Wire, Func<object, object>? ToWire, Func<object, object>? FromDb);

    // Built-in scalar types and the CLR types that can hold every value of them (reads never narrow).
    private static ScalarCodec? Scalar(Type clr, PgType pg)
    {
        if (clr.IsEnum)
        {
            return pg.TypeName is "int2" or "int4" or "int8"
                ? new(
                    NpgsqlDbType.Bigint,
                    static v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture),
                    v => Enum.ToObject(clr, v))
                : null;
        }

        return (pg.TypeName, clr) switch
        {
            ("bool", _) when clr == typeof(bool) => new(NpgsqlDbType.Boolean, null, null),
            ("int2", _) when clr == typeof(short) => new(NpgsqlDbType.Smallint, null, null),
            ("int2", _) when clr == typeof(int) => new(NpgsqlDbType.Integer, null, static v => (int)(short)v),
            ("int2", _) when clr == typeof(long) => new(NpgsqlDbType.Bigint, null, static v => (long)(short)v),
            ("int4", _) when clr == typeof(int) => new(NpgsqlDbType.Integer, null, null),
            ("int4", _) when clr == typeof(long) => new(NpgsqlDbType.Bigint, null, static v => (long)(int)v),
            ("int4", _) when clr == typeof(short) => new(NpgsqlDbType.Smallint, null, static v => checked((short)(int)v)),
            ("int8", _) when clr == typeof(long) => new(NpgsqlDbType.Bigint, null, null),

            // A narrower property is common (int on a bigint column): writes always fit; a stored value outside its range
            // cannot be read (OverflowException, reported as UnreadableRowException with the row's key).
            ("int8", _) when clr == typeof(int) => new(NpgsqlDbType.Integer, null, static v => checked((int)(long)v)),
            ("int8", _) when clr == typeof(short) => new(NpgsqlDbType.Smallint, null, static v => checked((short)(long)v)),
            ("float4", _) when clr == typeof(float) => new(NpgsqlDbType.Real, null, null),
            ("float4", _) when clr == typeof(double) => new(NpgsqlDbType.Double, null, static v => (double)(float)v),
            ("float8", _) when clr == typeof(double) => new(NpgsqlDbType.Double, null, null),
            ("numeric", _) when clr == typeof(decimal) => new(NpgsqlDbType.Numeric, null, null),
            ("uuid", _) when clr == typeof(Guid) => new(NpgsqlDbType.Uuid, null, null),
            ("bytea", _) when clr == typeof(byte[]) => new(NpgsqlDbType.Bytea, null, null),
            ("inet", _) when clr == typeof(IPAddress) => new(NpgsqlDbType.Inet, null, null),
            ("timestamptz", _) when clr == typeof(DateTimeOffset) => new(
                NpgsqlDbType.TimestampTz,
                static v => ((DateTimeOffset)v).ToUniversalTime(),
                static v => v is DateTime d ? new DateTimeOffset(d) : v),
            ("timestamptz", _) when clr == typeof(DateTime) => new(NpgsqlDbType.TimestampTz, static v => UtcInstant((DateTime)v), null),
            ("timestamp", _) when clr == typeof(DateTime) => new(
                NpgsqlDbType.Timestamp,
                static v => DateTime.SpecifyKind((DateTime)v, DateTimeKind.Unspecified),
                null),
            ("date", _) when clr == typeof(DateOnly) => new(NpgsqlDbType.Date, null, static v => v is DateTime d ? DateOnly.FromDateTime(d) : v),
            ("date", _) when clr == typeof(DateTime) => new(
                NpgsqlDbType.Date,
                null,
                static v => v is DateOnly d ? d.ToDateTime(TimeOnly.MinValue) : v),
            ("time", _) when clr == typeof(TimeOnly) => new(NpgsqlDbType.Time, null, static v => v is TimeSpan t ? TimeOnly.FromTimeSpan(t) : v),
            ("time", _) when clr == typeof(TimeSpan) => new(NpgsqlDbType.Time, null, static v => v is TimeOnly t ? t.ToTimeSpan() : v),
            ("interval", _) when clr == typeof(TimeSpan) => new(NpgsqlDbType.Interval, null, null),
            _ => null,
        };
    }

    // Built-in types the pairing table covers: any other CLR type on them is refused rather than passed through.
    private static bool Known(PgType pg) => pg.TypeName is "bool" or "int2" or "int4" or "int8" or "float4" or "float8" or "numeric"
        or "uuid" or "bytea" or "inet" or "timestamptz" or "timestamp" or "date" or "time" or "interval";

    private static DateTime UtcInstant(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => throw new ArgumentException(
            $"A DateTime with Kind=Unspecified ({value:O}) cannot be written to a timestamptz column: it names no " +
            "instant. Use DateTime.SpecifyKind(value, DateTimeKind.Utc), a UTC DateTime, or a DateTimeOffset."),
    };

    private static string Refusal(ColumnMapping column, Type clr, ColumnType type)
    {
        var owner = column.Property.DeclaringType is { } declaring ? TypeName(declaring) + "." : string.Empty;
        var property = $"{owner}{column.Property.Name} ({TypeName(column.Property.PropertyType)})";
        var hint = Supported(type);
        return $"property {property} cannot map to column \"{column.ColumnName}\" ({type.Display}): {hint}";
    }

    private static string Supported(ColumnType type)
    {
        if (type.Element is { } element)
        {
            return element.IsEnum
                ? "an enum array maps to a CLR enum array whose members match the labels (T[], not List<T>), or to string[] / List<string>."
                : $"an array maps to T[] or List<T> where T maps to {element.SqlName} (List<T> for primitive, Guid, date and time elements).";
        }

        var pg = type.Base;
        if (IsJson(pg))
        {
            return "System.Text.Json cannot serialize this type with the configured options; set " +
                "IdempotentWritesOptions.JsonSerializerOptions (for example with a source-generated " +
                "JsonSerializerContext), or use string, JsonDocument, JsonElement or JsonNode.";
        }

        if (pg.IsEnum)
        {
            return "an enum column maps to string or to a CLR enum whose members match its labels " +
                $"({string.Join(", ", type.EnumLabels)}), by exact name or snake_case.";
        }

        return pg.TypeName switch
        {
            "bool" => "use bool.",
            "int2" => "use short, int, long or an enum.",
            "int4" => "use int, long, short or an enum.",
            "int8" => "use long, int, short or an enum.",
            "float4" => "use float or double.",
            "float8" => "use double.",
            "numeric" => "use decimal.",
            "uuid" => "use Guid.",
            "bytea" => "use byte[].",
            "inet" => "use System.Net.IPAddress.",
            "timestamptz" => "use DateTimeOffset or DateTime (UTC).",
            "timestamp" => "use DateTime (a timestamp without time zone is not an instant; DateTimeOffset would invent an offset).",
            "date" => "use DateOnly or DateTime.",
            "time" => "use TimeOnly or TimeSpan.",
            "interval" => "use TimeSpan.",
            _ when pg.Category == 'S' => "a text column maps to string, or to a CLR enum stored by member name.",
            _ => "the CLR type cannot be converted to or from this column type.",
        };
    }

    private static string TypeName(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying) + "?";
        }

        return type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>"
            : type.Name;
    }

    // Maps CLR enum members to an enum type's labels, both directions: every member needs a label (or writes fail) and
    // every label a member (or reading a stored row fails). Matched by exact name, then by snake_case (Npgsql's default).
    private sealed class EnumLabels
    {
        private readonly Dictionary<object, string> _toLabel = [];
        private readonly Dictionary<string, object> _toMember = new(StringComparer.Ordinal);

        public object ToLabel(object member) => _toLabel.TryGetValue(member, out var label)
            ? label
            : throw new ArgumentException($"{member.GetType().Name} value {member} is not a member the database enum has a label for.");

        public object ToMember(object label) => _toMember.TryGetValue((string)label, out var member)
            ? member
            : throw new InvalidCastException($"The database enum label '{label}' has no CLR member.");

        public static EnumLabels? Create(Type clr, IReadOnlyList<string> labels)
        {
            var result = new EnumLabels();
            var available = new HashSet<string>(labels, StringComparer.Ordinal);
            foreach (var name in Enum.GetNames(clr))
            {
                var label = available.Contains(name) ? name : NameConvention.ToSnakeCase(name);
                if (!available.Contains(label))
                {
                    return null;
                }

                var member = Enum.Parse(clr, name);
                result._toLabel[member] = label;
                result._toMember[label] = member;
            }

            return labels.All(result._toMember.ContainsKey) ? result : null;
        }
    }

    private static class Arrays
    {
        public static object ToWire(object value, Func<object, object> element, NpgsqlDbType wire)
        {
            var source = (System.Collections.IList)value;
            return wire switch
            {
                NpgsqlDbType.Text => Map<string>(source, element),
                NpgsqlDbType.TimestampTz => Map<DateTime>(source, v => v is DateTimeOffset o ? o.UtcDateTime : element(v)),
                NpgsqlDbType.Timestamp => Map<DateTime>(source, element),
                NpgsqlDbType.Bigint => Map<long>(source, element),
                _ => value,
            };
        }

        public static object FromDb(Array value, Type target, Type elementClr, Func<object, object>? element)
        {
            if (!target.IsArray)
            {
                return Lists.Create(elementClr, value, element);
            }

            var result = Array.CreateInstanceFromArrayType(target, value.Length);
            for (var i = 0; i < value.Length; i++)
            {
                var item = value.GetValue(i);
                result.SetValue(item is null || element is null ? item : element(item), i);
            }

            return result;
        }

        private static T?[] Map<T>(System.Collections.IList source, Func<object, object> element)
        {
            var result = new T?[source.Count];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = source[i] is { } item ? (T)element(item) : default;
            }

            return result;
        }
    }

    // List<T> for the element types a list can hold without runtime code generation.
    private static class Lists
    {
        public static bool Supports(Type element) => Create(element, Array.Empty<object>(), null) is not null;

        public static object Create(Type element, Array source, Func<object, object>? convert) => element switch
        {
            _ when element == typeof(string) => Fill<string>(source, convert),
            _ when element == typeof(bool) => Fill<bool>(source, convert),
            _ when element == typeof(short) => Fill<short>(source, convert),
            _ when element == typeof(int) => Fill<int>(source, convert),
            _ when element == typeof(long) => Fill<long>(source, convert),
            _ when element == typeof(float) => Fill<float>(source, convert),
            _ when element == typeof(double) => Fill<double>(source, convert),
            _ when element == typeof(decimal) => Fill<decimal>(source, convert),
            _ when element == typeof(Guid) => Fill<Guid>(source, convert),
            _ when element == typeof(DateTime) => Fill<DateTime>(source, convert),
            _ when element == typeof(DateTimeOffset) => Fill<DateTimeOffset>(source, convert),
            _ when element == typeof(DateOnly) => Fill<DateOnly>(source, convert),
            _ when element == typeof(TimeOnly) => Fill<TimeOnly>(source, convert),
            _ when element == typeof(TimeSpan) => Fill<TimeSpan>(source, convert),
            _ => null!,
        };

        private static List<T> Fill<T>(Array source, Func<object, object>? convert)
        {
            var list = new List<T>(source.Length);
            foreach (var item in source)
            {
                list.Add((T)(convert is null || item is null ? item : convert(item))!);
            }

            return list;
        }
    }
}

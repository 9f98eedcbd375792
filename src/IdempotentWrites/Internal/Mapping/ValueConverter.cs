// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;

namespace IdempotentWrites.Internal.Mapping;

// Converts what Npgsql reads (GetValue) into the property type where the two differ (int column into long, timestamptz into DateTimeOffset, ...).
internal static class ValueConverter
{
    public static object? ToClr(object? value, Type target)
    {
        if (value is null || value is DBNull)
        {
            return target.IsValueType && Nullable.GetUnderlyingType(target) is null
                ? throw new InvalidCastException($"The database returned NULL for a non-nullable {target.Name} property; make the property nullable.")
                : null;
        }

        if (target.IsInstanceOfType(value))
        {
            return value;
        }

        var underlying = Nullable.GetUnderlyingType(target) ?? target;
        if (underlying.IsInstanceOfType(value))
        {
            return value;
        }

        return (value, underlying) switch
        {
            (DateTime dateTime, _) when underlying == typeof(DateTimeOffset) => new DateTimeOffset(
                dateTime.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dateTime, DateTimeKind.Utc) : dateTime),
            (DateTime dateTime, _) when underlying == typeof(DateOnly) => DateOnly.FromDateTime(dateTime),
            (TimeSpan span, _) when underlying == typeof(TimeOnly) => TimeOnly.FromTimeSpan(span),
            (_, { IsEnum: true }) when value is string text => Enum.Parse(underlying, text, ignoreCase: true),
            (_, { IsEnum: true }) => Enum.ToObject(underlying, value),
            (IConvertible, _) => Convert.ChangeType(value, underlying, CultureInfo.InvariantCulture),
            _ => throw new InvalidCastException($"Cannot convert a database value of type {value.GetType().Name} to {target.Name}."),
        };
    }
}

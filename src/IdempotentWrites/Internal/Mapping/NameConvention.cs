// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql.NameTranslation;

namespace IdempotentWrites.Internal.Mapping;

internal static class NameConvention
{
    private static readonly NpgsqlSnakeCaseNameTranslator Translator = new();

    public static string ToSnakeCase(string name) => Translator.TranslateMemberName(name);

    public static string ColumnName(string propertyName, ColumnNamingConvention convention) => convention switch
    {
        ColumnNamingConvention.SnakeCase => ToSnakeCase(propertyName),
        ColumnNamingConvention.AsIs => propertyName,
        _ => throw new ArgumentOutOfRangeException(nameof(convention), convention, "Unknown column naming convention."),
    };
}

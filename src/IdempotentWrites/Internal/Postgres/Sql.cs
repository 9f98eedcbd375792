// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Postgres;

internal static class Sql
{
    // Identifiers are always quoted: names are case-sensitive and may contain anything but NUL.
    // How messages name a table: schema.table as written, or the table alone when it was looked up on the search_path.
    public static string DisplayName(string? schema, string table) => schema is null ? table : schema + "." + table;

    public static string Quote(string identifier)
    {
        if (identifier.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Identifier '{identifier.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a NUL character.",
                nameof(identifier));
        }

        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    public static string QualifiedName(string? schema, string table)
        => schema is null ? Quote(table) : Quote(schema) + "." + Quote(table);
}

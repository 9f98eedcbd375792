// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Cli.Internal;

// --table "billing.invoices" or --table invoices --schema billing; names are literal (case-sensitive), as in MapTable.
internal static class TableName
{
    public static (string? Schema, string Table) Parse(string table, string? schema)
    {
        if (schema is not null)
        {
            return (schema, table);
        }

        var dot = table.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < table.Length - 1 && table.IndexOf('.', dot + 1) < 0
            ? (table[..dot], table[(dot + 1)..])
            : (null, table);
    }
}

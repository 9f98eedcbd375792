// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Postgres;
using Npgsql;

namespace IdempotentWrites.Internal.Bulk;

// A table written by column names, checked against the catalog up front: every problem is one ArgumentException saying
// what to fix, before any row is read.
internal sealed record TextTarget(
    string? Schema,
    string Table,
    IReadOnlyList<string> Columns,
    IReadOnlyList<string> Keys,
    IReadOnlyList<string> UpdateColumns,
    bool OverridingSystemValue)
{
    // How the caller's errors name the column list, the key and another schema: TextBulkWriter names its own properties;
    // the iw tool (which links this file and checks the target with it before importing) names the CSV header and its options.
    public static readonly Wording Api = new(
        "TextBulkTarget.Columns", "TextBulkTarget.KeyColumns", "set TextBulkTarget.SchemaName for a table in another schema");

    public static async Task<TextTarget> ResolveAsync(
        NpgsqlDataSource dataSource,
        string? schema,
        string table,
        IReadOnlyList<string> columns,
        IReadOnlyList<string> keys,
        Wording wording,
        CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            throw new ArgumentException($"{wording.Keys} names no column");
        }

        var qualified = Sql.QualifiedName(schema, table);
        var catalog = await WriteTargetCatalog.ReadColumnsAsync(dataSource, qualified, cancellationToken).ConfigureAwait(false);
        var display = Sql.DisplayName(schema, table);
        if (catalog.Count == 0)
        {
            if (schema is not null)
            {
                await NameCatalog.EnsureSchemasAsync(dataSource, [schema], cancellationToken).ConfigureAwait(false);
            }

            throw new ArgumentException(
                await NameCatalog.DescribeMissingTableAsync(dataSource, schema, table, wording.SchemaHint, cancellationToken).ConfigureAwait(false));
        }

        foreach (var column in columns.Where(c => !catalog.TryGetValue(c, out var kind) || kind == "s"))
        {
            throw new ArgumentException(catalog.ContainsKey(column)
                ? $"{wording.Columns} names column \"{column}\", which is a generated column of {display}: it cannot be written"
                : $"{wording.Columns} names column \"{column}\", which {display} does not have (columns: {string.Join(", ", catalog.Keys)})");
        }

        foreach (var duplicate in columns.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            throw new ArgumentException($"{wording.Columns} names column \"{duplicate.Key}\" twice");
        }

        foreach (var key in keys.Where(k => !columns.Contains(k, StringComparer.Ordinal)))
        {
            throw new ArgumentException($"{wording.Keys} column \"{key}\" is not in {wording.Columns} ({string.Join(", ", columns)})");
        }

        await EnsureArbiterAsync(dataSource, qualified, display, keys, wording, cancellationToken).ConfigureAwait(false);
        return new TextTarget(
            schema,
            table,
            columns,
            keys,
            // GENERATED ALWAYS AS IDENTITY columns take the given values on insert (OVERRIDING SYSTEM VALUE), never on update.
            [.. columns.Where(c => !keys.Contains(c, StringComparer.Ordinal) && catalog[c] != "a")],
            columns.Any(c => catalog[c] == "a"));
    }

    // ON CONFLICT (keys) needs a unique index or constraint on exactly these columns, in any order, without a predicate
    // or expressions; otherwise PostgreSQL refuses the INSERT with 42P10. Checked up front, as the library's mapping check does.
    private static async Task EnsureArbiterAsync(
        NpgsqlDataSource dataSource,
        string qualified,
        string display,
        IReadOnlyList<string> keys,
        Wording wording,
        CancellationToken cancellationToken)
    {
        var found = await WriteTargetCatalog.ReadUniqueKeysAsync(dataSource, qualified, cancellationToken).ConfigureAwait(false);
        var wanted = new HashSet<string>(keys, StringComparer.Ordinal);
        var matching = found.Where(i => !i.Partial && wanted.SetEquals(i.Columns) && i.Columns.Length == wanted.Count).ToList();
        if (matching.Any(i => i.Immediate))
        {
            return;
        }

        var named = $"{wording.Keys} ({string.Join(", ", keys)})";
        var create = $"CREATE UNIQUE INDEX ON {qualified} ({string.Join(", ", keys.Select(Sql.Quote))})";
        if (matching.Count > 0)
        {
            // ON CONFLICT cannot use a DEFERRABLE constraint as its arbiter (PostgreSQL refuses the INSERT).
            throw new ArgumentException(
                $"{named}: the unique constraint of {display} on these columns is DEFERRABLE, and ON CONFLICT cannot use a deferrable constraint. "
                + $"Make it NOT DEFERRABLE (ALTER TABLE {qualified} ALTER CONSTRAINT <name> NOT DEFERRABLE), or add a unique index: {create}.");
        }

        var existing = found.Where(i => !i.Partial && i.Immediate).Select(i => "(" + string.Join(", ", i.Columns) + ")").ToList();
        throw new ArgumentException(
            $"{named}: {display} has no unique index or constraint on exactly these columns, so existing rows cannot be recognised. "
            + (
                existing.Count == 0
                    ? $"{display} has no unique index at all; "
                    : $"Its unique keys: {string.Join(", ", existing)}; pass one of them, or ")
            + $"create one: {create}.");
    }

    internal sealed record Wording(string Columns, string Keys, string SchemaHint);
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections;
using IdempotentWrites;
using Npgsql;

namespace Snippets.BulkImport;

// docs/bulk-import.md

// <snippet:bulk-row>
public sealed class Product
{
    public long Id { get; set; }

    public string Sku { get; set; } = "";

    public decimal Price { get; set; }
}
// </snippet:bulk-row>

public static class BulkImportExamples
{
    public static void Register(IServiceCollection services, string connectionString)
    {
        // <snippet:bulk-register>
        services.AddIdempotentWrites(o => o.ConnectionString = connectionString)
            .MapTable<Product>("products", t => t.ConflictOn(p => p.Id));
        // </snippet:bulk-register>
    }

    public static async Task InsertAsync(IIdempotentWriter writer, IEnumerable<Product> rows, CancellationToken ct)
    {
        // <snippet:bulk-insert>
        var report = await writer.InsertManyAsync(rows, new BulkWriteOptions { ChunkSize = 50_000 }, ct);

        Console.WriteLine($"{report.Inserted} inserted, {report.Existing} already existed, {report.DuplicatesInInput} repeated in the input");
        foreach (var product in report.ExistingRows) // the first MaxReportedRows (1,000) of them
        {
            Console.WriteLine($"product {product.Id} was already there");
        }
        // </snippet:bulk-insert>
    }

    public static async Task ResumableAsync(IIdempotentWriter writer, IAsyncEnumerable<Product> rows, CancellationToken ct)
    {
        // <snippet:bulk-progress>
        var options = new BulkWriteOptions
        {
            Progress = new Progress<BulkWriteReport>(p => Console.WriteLine($"{p.RowsRead} rows, {p.Chunks} chunks")),
        };
        try
        {
            await writer.InsertManyAsync(rows, options, ct);
        }
        catch (BulkWriteCanceledException canceled)
        {
            // Stopped between chunks: canceled.Report.Chunks are committed, nothing else is. Run the same import again later.
            Console.WriteLine($"stopped after {canceled.Report.RowsRead} rows");
        }
        catch (BulkWriteException failed)
        {
            // One chunk failed and was rolled back whole; InnerException is the typed cause (e.g. CheckViolationException).
            Console.WriteLine($"chunk starting at input row {failed.FirstFailedRow} failed: {failed.InnerException?.Message}");
        }
        // </snippet:bulk-progress>
    }

    public static async Task UpsertAndPreviewAsync(IIdempotentWriter writer, IReadOnlyList<Product> rows, CancellationToken ct)
    {
        // <snippet:bulk-upsert>
        var preview = await writer.PreviewConflictsAsync(rows, cancellationToken: ct);   // writes nothing
        Console.WriteLine($"{preview.Existing} of {preview.RowsRead} keys exist already");

        var report = await writer.UpsertManyAsync(rows, cancellationToken: ct);
        Console.WriteLine($"{report.Inserted} inserted, {report.Updated} updated, {report.Unchanged} unchanged");
        // </snippet:bulk-upsert>
    }

    public static async Task TextRowsAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        // <snippet:bulk-text>
        var writer = new TextBulkWriter(dataSource); // an NpgsqlDataSource; no AddIdempotentWrites needed
        var target = new TextBulkTarget(null, "contacts", ["id", "email", "name", "score"], keyColumns: ["email"]);
        string?[][] rows =
        [
            ["101", "ann@x", "Doe, Ann", "3"],
            ["102", "old1@x", null, "5"], // null is SQL NULL; "" is the empty string
        ];

        var report = await writer.InsertManyAsync(target, rows.ToAsyncEnumerable(), cancellationToken: ct);
        Console.WriteLine($"{report.Inserted} inserted, {report.Existing} already existed, {report.DuplicatesInInput} repeated");
        // </snippet:bulk-text>

        // <snippet:bulk-text-errors>
        try
        {
            await writer.UpsertManyAsync(target, rows.ToAsyncEnumerable(), cancellationToken: ct);
        }
        catch (BulkWriteException failed) when (failed.InnerException is BulkValueException value)
        {
            // Nothing of the row's chunk was written. value.Row is the row as given; the server's message (which quotes the
            // refused text) is in the inner PostgresException, never in the SDK's own messages.
            var server = (PostgresException)value.InnerException!;
            Console.WriteLine($"input row {value.Position}, column {value.ColumnName}: {server.MessageText}");
        }
        // </snippet:bulk-text-errors>

        // <snippet:bulk-csv-lines>
        var lines = File.ReadLinesAsync("contacts.csv", ct).Skip(1).Select(line => new CsvLine(line)); // after the header
        var imported = await writer.InsertManyAsync(target, lines, cancellationToken: ct);
        // </snippet:bulk-csv-lines>
        Console.WriteLine($"{imported.Inserted} inserted");
    }
}

// <snippet:bulk-csv-record>
// A line of a CSV file whose fields hold no comma, quote or line break (ids, emails, numbers): sent to COPY as it is; its
// fields are split only when it is reported.
public sealed class CsvLine(string text) : ICsvRecord
{
    public ReadOnlyMemory<char> CsvText => text.AsMemory();

    public int Count => text.AsSpan().Count(',') + 1;

    public string? this[int index] => Fields()[index];

    public IEnumerator<string?> GetEnumerator() => ((IEnumerable<string?>)Fields()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private string?[] Fields() => [.. text.Split(',').Select(field => field.Length == 0 ? null : field)];
}
// </snippet:bulk-csv-record>

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;

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
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

// Bulk import benchmark, side by side on one server in one run:
//   sdk        InsertManyAsync (binary COPY into a staging table + classifying INSERT … SELECT … ON CONFLICT per chunk)
//   psql       psql: \copy of the same rows (CSV) into a temporary staging table + INSERT … SELECT … ON CONFLICT DO NOTHING
//   row-by-row InsertOrGetAsync in a loop, as a naive import does (on a sample of the rows; rows/s is what is compared)
// for 0% and 30% pre-existing keys, into an indexed table. Each figure is the median of N runs (min–max shown).
// Usage: BulkDriver <connection string> [rows=1000000] [runs=3] [row-by-row sample=20000]
using System.Diagnostics;
using System.Globalization;
using IdempotentWrites;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

var connectionString = args[0];
var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var sample = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 20_000;
const string Table = "bench_bulk_items";

var builder = new NpgsqlConnectionStringBuilder(connectionString);
await using var dataSource = NpgsqlDataSource.Create(connectionString);
var services = new ServiceCollection();
services.AddIdempotentWrites(o => o.ConnectionString = connectionString).MapTable<BenchItem>(Table, t => t.ConflictOn(i => i.Id));
await using var provider = services.BuildServiceProvider();

async Task ExecuteAsync(string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    command.CommandTimeout = 0;
    await command.ExecuteNonQueryAsync();
}

// Keys are spread (id = i * 2) and shuffled, so 30% existing means every third-ish incoming key hits a stored row.
var random = new Random(20261125);
var input = Enumerable.Range(0, rows).Select(i => new BenchItem
{
    Id = i * 2L,
    Sku = "sku-" + i.ToString(CultureInfo.InvariantCulture),
    Qty = i % 1000,
    Price = (i % 10_000) / 100m,
    At = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(i),
    Note = "note " + i.ToString(CultureInfo.InvariantCulture),
}).OrderBy(_ => random.Next()).ToArray();

var csv = Path.Combine(Path.GetTempPath(), $"iw-bulk-{Environment.ProcessId}.csv");
await using (var writer = new StreamWriter(csv))
{
    foreach (var item in input)
    {
        await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{item.Id},{item.Sku},{item.Qty},{item.Price},{item.At:O},{item.Note}"));
    }
}

async Task ResetAsync(double existing)
{
    await ExecuteAsync($"DROP TABLE IF EXISTS {Table}; CREATE TABLE {Table} (id bigint PRIMARY KEY, sku text NOT NULL, qty bigint NOT NULL, price numeric(12,2) NOT NULL, at timestamptz NOT NULL, note text); CREATE INDEX ON {Table} (sku)");
    var stored = (int)(rows * existing);
    if (stored > 0)
    {
        await ExecuteAsync($"INSERT INTO {Table} SELECT g * 2, 'old', 0, 0, now(), 'old' FROM generate_series(0, {stored - 1}) g");
    }

    await ExecuteAsync($"VACUUM ANALYZE {Table}; CHECKPOINT");
}

async Task<double> SdkAsync()
{
    var writer = provider.GetRequiredService<IIdempotentWriter>();
    var stopwatch = Stopwatch.StartNew();
    var report = await writer.InsertManyAsync(input, new BulkWriteOptions { SynchronizeSequences = false });
    stopwatch.Stop();
    if (report.RowsRead != rows)
    {
        throw new InvalidOperationException($"sdk read {report.RowsRead} rows");
    }

    return rows / stopwatch.Elapsed.TotalSeconds;
}

async Task<double> PsqlAsync()
{
    var script = $"BEGIN;\nCREATE TEMP TABLE s ON COMMIT DROP AS SELECT * FROM {Table} WITH NO DATA;\n\\copy s FROM '{csv}' (FORMAT csv)\nINSERT INTO {Table} SELECT * FROM s ON CONFLICT (id) DO NOTHING;\nCOMMIT;\n";
    var start = new ProcessStartInfo("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!, "-d", builder.Database!])
    {
        RedirectStandardInput = true,
        RedirectStandardError = true,
    };
    start.Environment["PGPASSWORD"] = builder.Password;
    var stopwatch = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    await process.StandardInput.WriteAsync(script);
    process.StandardInput.Close();
    var errors = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    stopwatch.Stop();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException("psql failed: " + errors);
    }

    return rows / stopwatch.Elapsed.TotalSeconds;
}

async Task<double> RowByRowAsync()
{
    var writer = provider.GetRequiredService<IIdempotentWriter>();
    var stopwatch = Stopwatch.StartNew();
    for (var i = 0; i < sample; i++)
    {
        await writer.InsertOrGetAsync(input[i]);
    }

    stopwatch.Stop();
    return sample / stopwatch.Elapsed.TotalSeconds;
}

Console.WriteLine($"bulk import of {rows:N0} rows into an indexed table ({Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}); rows/s, median of {runs} (min–max)");
Console.WriteLine($"{"existing",-9} {"method",-12} {"rows/s",10} {"min–max",22}");
var targets = new List<string>();
foreach (var existing in new[] { 0.0, 0.3 })
{
    var sdk = new List<double>();
    var psql = new List<double>();
    for (var run = 0; run < runs; run++)
    {
        // Alternate the order so drift on the machine does not favour one side.
        if (run % 2 == 0)
        {
            await ResetAsync(existing);
            psql.Add(await PsqlAsync());
            await ResetAsync(existing);
            sdk.Add(await SdkAsync());
        }
        else
        {
            await ResetAsync(existing);
            sdk.Add(await SdkAsync());
            await ResetAsync(existing);
            psql.Add(await PsqlAsync());
        }
    }

    await ResetAsync(existing);
    var rowByRow = new List<double> { await RowByRowAsync() };
    var label = $"{existing:P0}";
    Print(label, "sdk", sdk);
    Print(label, "psql", psql);
    Print(label, "row-by-row", rowByRow);
    targets.Add(string.Create(CultureInfo.InvariantCulture, $"target bulk-vs-psql-{existing * 100:0}pct {Median(sdk) / Median(psql):0.00} 0.85"));
    targets.Add(string.Create(CultureInfo.InvariantCulture, $"target bulk-vs-row-by-row-{existing * 100:0}pct {Median(sdk) / Median(rowByRow):0.0} 20"));
}

File.Delete(csv);
await ExecuteAsync($"DROP TABLE IF EXISTS {Table}");
targets.ForEach(Console.WriteLine);

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static void Print(string existing, string method, List<double> values)
    => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{existing,-9} {method,-12} {Median(values),10:N0} {$"{values.Min():N0}–{values.Max():N0}",22}"));

public sealed class BenchItem
{
    public long Id { get; set; }

    public string Sku { get; set; } = string.Empty;

    public int Qty { get; set; }

    public decimal Price { get; set; }

    public DateTimeOffset At { get; set; }

    public string? Note { get; set; }
}

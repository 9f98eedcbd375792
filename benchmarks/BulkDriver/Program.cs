// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

// Bulk import benchmark (issue #17): `iw import` and InsertManyAsync against the recipe users compare them with, on a
// DURABLE server (fsync, synchronous_commit and full_page_writes on; the driver refuses anything else and prints the
// settings). Table people(id bigserial primary key, email text unique, name text, note text); N rows (default 1,000,000)
// with explicit ids, emails in another order than the ids, and some notes that need CSV quoting (a comma, a quote, a
// newline), NULL or "". One CSV (header id,email,name,note) per input order, written once: ascending ids (as an export
// gives them) and the same rows shuffled (fixed seed). Four cells: order {ascending, shuffled} x {0 %, 30 %} of the rows
// already stored. Methods, each timed from start to end as a user would see it:
//   psql       the recipe, piped to psql -X -q -v ON_ERROR_STOP=1: BEGIN; CREATE TEMP TABLE s (LIKE people INCLUDING
//              DEFAULTS) ON COMMIT DROP; \copy s FROM <csv> CSV HEADER; INSERT INTO people SELECT * FROM s ON CONFLICT
//              (email) DO NOTHING; SELECT setval(pg_get_serial_sequence('people','id'), (SELECT max(id) FROM people)); COMMIT
//   iw-import  dotnet IdempotentWrites.Cli.dll import <csv> --table people --conflict-on email --connection <cs> (the whole
//              process: startup, chunks of 50,000 rows each committed, sequence synchronisation); exit code 0 required
//   sdk        InsertManyAsync(rows) with default options (Person objects built beforehand; only the call is timed)
//   copy       the ceiling, at 0 % only: BEGIN; \copy people FROM <csv> CSV HEADER; the same setval; COMMIT (no conflict
//              handling at all), via psql into the empty table
// Before every method the table is rebuilt as a restore leaves it: created without constraints, at 30 % a fixed random 30 %
// of the same rows (same id and email) inserted in id order, then the primary key and unique constraint added, the
// sequence set to max(id), VACUUM ANALYZE, CHECKPOINT. Each run runs the cell's methods in a rotated order (run r starts
// with method r mod n). After every method: count(*) = N, the sequence past max(id), and an md5 over the whole table
// equal to the input's (all methods must leave the same table); iw's summary and the SDK report must count N rows read,
// N - preloaded inserted, preloaded existing. Fails loudly otherwise.
// Output: per cell and method the median rows/s of the runs (min–max), the median seconds and client CPU seconds (psql
// or iw process: user + system of the child; sdk: this process during the call), ratio to psql; then the target lines
// `target bulk-<iw-import|insert-many>-vs-psql:<order>:<0|30>pct <median / median psql> 1.00` and
// `target bulk-<iw-import|insert-many>-vs-copy:<order>:0pct <median / median copy> 0.70`.
//
// Usage: BulkDriver "<Npgsql connection string>" [rows=1000000] [runs=3]
// Environment: BULK_IW_DLL (default artifacts/bin/IdempotentWrites.Cli/release/IdempotentWrites.Cli.dll beside this
// driver's output), BULK_PSQL (default /usr/lib/postgresql/15/bin/psql when present, else psql on PATH).
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using IdempotentWrites;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

if (args.Length is < 1 or > 3)
{
    Console.Error.WriteLine("usage: BulkDriver <Npgsql connection string> [rows=1000000] [runs=3]");
    return 2;
}

var inv = CultureInfo.InvariantCulture;
var connectionString = args[0];
var rows = args.Length > 1 ? int.Parse(args[1], inv) : 1_000_000;
var runs = args.Length > 2 ? int.Parse(args[2], inv) : 3;
if (rows < 10 || runs < 1)
{
    Console.Error.WriteLine("BulkDriver: rows must be at least 10 and runs at least 1");
    return 2;
}

const string Preload = "bench_bulk_people_preload";
var psql = Environment.GetEnvironmentVariable("BULK_PSQL") is { Length: > 0 } psqlPath ? psqlPath
    : File.Exists("/usr/lib/postgresql/15/bin/psql") ? "/usr/lib/postgresql/15/bin/psql" : "psql";
var iwDll = Environment.GetEnvironmentVariable("BULK_IW_DLL") is { Length: > 0 } iwPath ? Path.GetFullPath(iwPath)
    : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "IdempotentWrites.Cli", "release", "IdempotentWrites.Cli.dll"));
if (!File.Exists(iwDll))
{
    Console.Error.WriteLine($"BulkDriver: {iwDll} not found; build it: dotnet build src/IdempotentWrites.Cli -c Release");
    return 2;
}

var builder = new NpgsqlConnectionStringBuilder(connectionString);
await using var dataSource = NpgsqlDataSource.Create(connectionString);

async Task ExecuteAsync(string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    command.CommandTimeout = 0;
    await command.ExecuteNonQueryAsync();
}

async Task<string> ScalarAsync(string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    command.CommandTimeout = 0;
    return Convert.ToString(await command.ExecuteScalarAsync(), inv) ?? string.Empty;
}

// ---- the server must be durable
var settings = new Dictionary<string, string>();
foreach (var name in new[] { "server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers",
    "max_wal_size", "checkpoint_timeout", "work_mem", "maintenance_work_mem", "data_directory" })
{
    settings[name] = await ScalarAsync("SHOW " + name);
}

if (settings["fsync"] != "on" || settings["synchronous_commit"] != "on" || settings["full_page_writes"] != "on")
{
    Console.Error.WriteLine(
        $"BulkDriver: the server is not durable (fsync={settings["fsync"]}, synchronous_commit={settings["synchronous_commit"]}, " +
        $"full_page_writes={settings["full_page_writes"]}); start one with IW_PG_DURABLE=1 bash eng/pg-local.sh start " +
        "(benchmarks/bulk.sh does)");
    return 1;
}

// ---- the rows: ids 1..N; emails first.last<id>@example.com from a hash of the id, so their order is not the ids' order
string[] first = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla", "Leon", "Mia", "Noah",
    "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Uwe", "Vera", "Walter", "Xenia", "Yusuf", "Zoe"];
string[] last = ["Schmidt", "Meyer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann",
    "Schwarz", "Braun", "Zimmermann", "Hartmann", "Lange", "Krause", "Lehmann", "Walter", "Maier", "Fuchs", "Peters", "Vogel"];
string[] cities = ["Berlin, Germany", "Lyon, France", "Porto, Portugal", "Gdansk, Poland", "Graz, Austria", "Ghent, Belgium"];
var people = new Person[rows];
for (var i = 0; i < rows; i++)
{
    var id = i + 1L;
    var hash = (uint)id * 2654435761u;
    var firstName = first[hash % (uint)first.Length];
    var lastName = last[(hash >> 8) % (uint)last.Length];
    people[i] = new Person
    {
        Id = id,
        Email = string.Create(inv, $"{firstName.ToLowerInvariant()}.{lastName.ToLowerInvariant()}{id}@example.com"),
        Name = firstName + " " + lastName,
        Note = (i % 7, i % 10, i % 100, i % 500, i % 1000) switch
        {
            (3, _, _, _, _) => null,                                         // an unquoted empty field: NULL
            (_, _, _, _, 2) => "first line\nsecond line",                    // a quoted newline
            (_, _, _, 4, _) => string.Empty,                                 // "": the empty string
            (_, _, 1, _, _) => "said \"call me back\"",                      // a quoted quote
            (_, 0, _, _, _) => "ships to " + cities[(i / 10) % cities.Length], // a quoted comma
            _ => string.Create(inv, $"customer since {2010 + (i % 15)}"),
        },
    };
}

var shuffled = (Person[])people.Clone();
new Random(20261207).Shuffle(shuffled);
var preloadCount = rows * 3 / 10;
var preloadRows = people.ToArray();
new Random(17).Shuffle(preloadRows);
preloadRows = [.. preloadRows.Take(preloadCount).OrderBy(p => p.Id)];

// What every method must leave in the table: md5 over id,email,name,note (NULL as <null>) of all rows in id order.
var expectedMd5 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(
    string.Join('\n', people.Select(p => string.Create(inv, $"{p.Id},{p.Email},{p.Name},{p.Note ?? "<null>"}"))))));

var csvFiles = new Dictionary<string, string>();
foreach (var (order, input) in new[] { ("ascending", people), ("shuffled", shuffled) })
{
    var path = Path.Combine(Path.GetTempPath(), $"iw-bulk-{Environment.ProcessId}-{order}.csv");
    await using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" })
    {
        await writer.WriteLineAsync("id,email,name,note");
        foreach (var p in input)
        {
            await writer.WriteLineAsync(string.Create(inv, $"{p.Id},{Csv(p.Email)},{Csv(p.Name)},{Csv(p.Note)}"));
        }
    }

    csvFiles[order] = path;
}

try
{
    // The rows a restore left behind, kept once in an unlogged side table; each reset copies them in.
    await ExecuteAsync($"DROP TABLE IF EXISTS {Preload}; CREATE UNLOGGED TABLE {Preload} (id bigint, email text, name text, note text)");
    await using (var connection = await dataSource.OpenConnectionAsync())
    {
        await using var import = await connection.BeginBinaryImportAsync($"COPY {Preload} (id, email, name, note) FROM STDIN (FORMAT BINARY)");
        foreach (var p in preloadRows)
        {
            await import.StartRowAsync();
            await import.WriteAsync(p.Id);
            await import.WriteAsync(p.Email);
            await import.WriteAsync(p.Name);
            await import.WriteAsync(p.Note);
        }

        await import.CompleteAsync();
    }

    var services = new ServiceCollection();
    services.AddIdempotentWrites(o => o.ConnectionString = connectionString).MapTable<Person>("people", t => t.ConflictOn(p => p.Email));
    await using var provider = services.BuildServiceProvider();
    var sdkWriter = provider.GetRequiredService<IIdempotentWriter>();

    async Task ResetAsync(bool preload)
    {
        await ExecuteAsync(
            "DROP TABLE IF EXISTS people; CREATE TABLE people (id bigserial, email text, name text, note text);" +
            (preload ? $" INSERT INTO people SELECT id, email, name, note FROM {Preload} ORDER BY id;" : string.Empty) +
            " ALTER TABLE people ADD PRIMARY KEY (id), ADD UNIQUE (email);" +
            " SELECT setval(pg_get_serial_sequence('people', 'id'), max(id)) FROM people HAVING max(id) IS NOT NULL");
        await ExecuteAsync("VACUUM ANALYZE people");
        await ExecuteAsync("CHECKPOINT");
    }

    async Task VerifyAsync(string method)
    {
        var count = long.Parse(await ScalarAsync("SELECT count(*) FROM people"), inv);
        var behind = await ScalarAsync(
            "SELECT (SELECT max(id) FROM people) > (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM people_id_seq)");
        var md5 = await ScalarAsync(
            "SELECT md5(string_agg(id::text || ',' || email || ',' || name || ',' || coalesce(note, '<null>'), E'\\n' ORDER BY id)) FROM people");
        if (count != rows || behind != "False" || md5 != expectedMd5)
        {
            throw new InvalidOperationException(
                $"{method} left a wrong table: count {count} (expected {rows}), sequence behind max(id): {behind}, md5 {md5} " +
                $"(expected {expectedMd5})");
        }
    }

    async Task<ProcessRun> RunProcessAsync(string what, string fileName, IEnumerable<string> arguments, string? input)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (fileName == psql)
        {
            start.Environment["PGPASSWORD"] = builder.Password;
        }

        var cpuBefore = ChildCpu.Seconds();
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{what}: could not start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync();
        stopwatch.Stop();
        var cpuAfter = ChildCpu.Seconds();
        var run = new ProcessRun(stopwatch.Elapsed.TotalSeconds, cpuAfter - cpuBefore, await output, await errors);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} exited with {process.ExitCode}: {run.Errors.Trim()}");
        }

        if (run.Errors.Length > 0)
        {
            Console.Error.WriteLine($"{what} (exit 0) wrote on stderr: {run.Errors.Trim()}");
        }

        return run;
    }

    string[] PsqlArguments() =>
        ["-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-h", builder.Host!, "-p", builder.Port.ToString(inv), "-U", builder.Username!,
            "-d", builder.Database ?? builder.Username!];

    static string Quoted(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    async Task<Sample> PsqlRecipeAsync(string csv)
    {
        var script = "BEGIN;\n" +
            "CREATE TEMP TABLE s (LIKE people INCLUDING DEFAULTS) ON COMMIT DROP;\n" +
            $"\\copy s FROM {Quoted(csv)} CSV HEADER\n" +
            "INSERT INTO people SELECT * FROM s ON CONFLICT (email) DO NOTHING;\n" +
            "SELECT setval(pg_get_serial_sequence('people','id'), (SELECT max(id) FROM people));\n" +
            "COMMIT;\n";
        var run = await RunProcessAsync("psql", psql, PsqlArguments(), script);
        return new Sample(run.Seconds, run.CpuSeconds);
    }

    async Task<Sample> CopyAsync(string csv)
    {
        var script = "BEGIN;\n" +
            $"\\copy people FROM {Quoted(csv)} CSV HEADER\n" +
            "SELECT setval(pg_get_serial_sequence('people','id'), (SELECT max(id) FROM people));\n" +
            "COMMIT;\n";
        var run = await RunProcessAsync("psql (copy)", psql, PsqlArguments(), script);
        return new Sample(run.Seconds, run.CpuSeconds);
    }

    async Task<Sample> IwImportAsync(string csv, int preloaded)
    {
        var run = await RunProcessAsync(
            "iw import",
            "dotnet",
            [iwDll, "import", csv, "--table", "people", "--conflict-on", "email", "--connection", connectionString],
            null);
        var inserted = SummaryCount(run.Output, "inserted");
        var existed = SummaryCount(run.Output, "already existed");
        if (inserted != rows - preloaded || existed != preloaded)
        {
            throw new InvalidOperationException(
                $"iw import reported {inserted} inserted and {existed} already existed, expected {rows - preloaded} and {preloaded}:\n" +
                run.Output);
        }

        return new Sample(run.Seconds, run.CpuSeconds);
    }

    async Task<Sample> SdkAsync(Person[] input, int preloaded)
    {
        var cpu = Environment.CpuUsage.TotalTime;
        var stopwatch = Stopwatch.StartNew();
        var report = await sdkWriter.InsertManyAsync(input);
        stopwatch.Stop();
        var cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        if (report.RowsRead != rows || report.Inserted != rows - preloaded || report.Existing != preloaded)
        {
            throw new InvalidOperationException(
                $"InsertManyAsync reported {report.RowsRead} read, {report.Inserted} inserted, {report.Existing} existing; expected " +
                $"{rows}, {rows - preloaded}, {preloaded}");
        }

        return new Sample(stopwatch.Elapsed.TotalSeconds, cpuSeconds);
    }

    // Warm-up, untimed: the SDK's bulk path is JIT-compiled and iw's files are in the page cache before the first measurement.
    await ResetAsync(false);
    await sdkWriter.InsertManyAsync(people.Take(Math.Min(rows, 100_000)));
    await RunProcessAsync("iw --version", "dotnet", [iwDll, "--version"], null);

    var durable = $"fsync={settings["fsync"]}, synchronous_commit={settings["synchronous_commit"]}, " +
        $"full_page_writes={settings["full_page_writes"]}";
    Console.WriteLine(string.Create(
        inv,
        $"bulk import of {rows:N0} rows into people(id bigserial primary key, email text unique, name text, note text); " +
        $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
    Console.WriteLine($"server: PostgreSQL {settings["server_version"]}, {durable}, wal_sync_method={settings["wal_sync_method"]}, " +
        $"shared_buffers={settings["shared_buffers"]}, max_wal_size={settings["max_wal_size"]}, " +
        $"checkpoint_timeout={settings["checkpoint_timeout"]}, work_mem={settings["work_mem"]}, " +
        $"maintenance_work_mem={settings["maintenance_work_mem"]}, data_directory={settings["data_directory"]}");
    Console.WriteLine($"iw: {iwDll}; psql: {psql}");
    Console.WriteLine(string.Create(
        inv,
        $"median of {runs} interleaved run(s) (min–max); s = median seconds; client CPU = median CPU seconds of the psql or iw " +
        $"process, or of this process during InsertManyAsync; every method's table checked (count, sequence, md5)"));
    Console.WriteLine();
    Console.WriteLine($"{"order",-10} {"existing",-9} {"method",-10} {"rows/s",10} {"min–max",21} {"s",7} {"client CPU",10} {"vs psql",7}");

    var targets = new List<string>();
    foreach (var order in new[] { "ascending", "shuffled" })
    {
        var input = order == "ascending" ? people : shuffled;
        foreach (var existing in new[] { 0, 30 })
        {
            var preloaded = existing == 0 ? 0 : preloadCount;
            var methods = new List<(string Name, Func<Task<Sample>> Run)>
            {
                ("psql", () => PsqlRecipeAsync(csvFiles[order])),
                ("iw-import", () => IwImportAsync(csvFiles[order], preloaded)),
                ("sdk", () => SdkAsync(input, preloaded)),
            };
            if (existing == 0)
            {
                methods.Add(("copy", () => CopyAsync(csvFiles[order])));
            }

            var samples = methods.ToDictionary(m => m.Name, _ => new List<Sample>());
            for (var run = 0; run < runs; run++)
            {
                var line = new StringBuilder(string.Create(inv, $"{order} {existing} % run {run + 1}/{runs}:"));
                for (var k = 0; k < methods.Count; k++)
                {
                    var (name, measure) = methods[(run + k) % methods.Count];
                    await ResetAsync(preloaded > 0);
                    var sample = await measure();
                    await VerifyAsync(name);
                    samples[name].Add(sample);
                    line.Append(inv, $" {name} {sample.Seconds:F2} s");
                }

                Console.Error.WriteLine(line);
            }

            var psqlRate = Median(samples["psql"].Select(s => rows / s.Seconds));
            foreach (var (name, _) in methods)
            {
                var rates = samples[name].Select(s => rows / s.Seconds).ToList();
                var cpu = samples[name].Select(s => s.CpuSeconds).OfType<double>().ToList();
                Console.WriteLine(string.Create(
                    inv,
                    $"{order,-10} {existing + " %",-9} {name,-10} {Median(rates),10:N0} {$"{rates.Min():N0}–{rates.Max():N0}",21} " +
                    $"{Median(samples[name].Select(s => s.Seconds)),7:F2} {(cpu.Count > 0 ? Median(cpu).ToString("F2", inv) : "n/a"),10} " +
                    $"{Median(rates) / psqlRate,7:F2}"));
            }

            foreach (var (name, target) in new[] { ("iw-import", "iw-import"), ("sdk", "insert-many") })
            {
                var rate = Median(samples[name].Select(s => rows / s.Seconds));
                targets.Add(string.Create(inv, $"target bulk-{target}-vs-psql:{order}:{existing}pct {rate / psqlRate:F2} 1.00"));
                if (existing == 0)
                {
                    var copyRate = Median(samples["copy"].Select(s => rows / s.Seconds));
                    targets.Add(string.Create(inv, $"target bulk-{target}-vs-copy:{order}:{existing}pct {rate / copyRate:F2} 0.70"));
                }
            }
        }
    }

    Console.WriteLine();
    targets.ForEach(Console.WriteLine);
}
finally
{
    foreach (var path in csvFiles.Values)
    {
        File.Delete(path);
    }

    await ExecuteAsync($"DROP TABLE IF EXISTS people; DROP TABLE IF EXISTS {Preload}");
}

return 0;

static string Csv(string? value)
    => value is null ? string.Empty
        : value.Length == 0 || value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
        : value;

static long SummaryCount(string summary, string label)
    => Regex.Match(summary, "^\\s*" + label + "\\s+([0-9,]+)", RegexOptions.Multiline) is { Success: true } match
        ? long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)
        : -1;

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

public sealed class Person
{
    public long Id { get; set; }

    public string Email { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public string? Note { get; set; }
}

internal sealed record Sample(double Seconds, double? CpuSeconds);

internal sealed record ProcessRun(double Seconds, double? CpuSeconds, string Output, string Errors);

// CPU seconds (user + system) of this process's terminated, waited-for children: getrusage(RUSAGE_CHILDREN). .NET's
// Process.TotalProcessorTime throws once the process has exited, so the difference around one child is its CPU time.
internal static class ChildCpu
{
    public static double? Seconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct rusage on 64-bit Linux: ru_utime and ru_stime (each seconds, microseconds), then 14 longs.
        var usage = new long[18];
        try
        {
            return GetRUsage(-1, usage) == 0 ? usage[0] + (usage[1] / 1e6) + usage[2] + (usage[3] / 1e6) : null;
        }
        catch (DllNotFoundException)
        {
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, [Out] long[] usage);
}

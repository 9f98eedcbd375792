// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace LoadDriver;

// pgbench (C client, held connections, prepared statements) with the SDK's SQL: the physical limit of this server.
// Keys as in the .NET scenarios: a hot key "hot-0…999" with the mix's probability, else a fresh random key.
internal sealed partial class PgBench(string path, string connectionString, string table)
{
    private readonly string _directory = Directory.CreateTempSubdirectory("iw-pgbench-").FullName;

    public async Task<double> RunAsync(string script, int mix, int clients, int seconds)
    {
        var file = Path.Combine(_directory, $"{script}-{mix}.sql");
        if (!File.Exists(file))
        {
            await File.WriteAllTextAsync(file, Script(script, mix));
        }

        var cs = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "-n", "-M", "prepared", "-T", seconds.ToString(CultureInfo.InvariantCulture),
                "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", Math.Min(clients, 2).ToString(CultureInfo.InvariantCulture),
                "-h", cs.Host ?? "127.0.0.1", "-p", cs.Port.ToString(CultureInfo.InvariantCulture), "-U", cs.Username ?? "postgres",
                "-f", file, cs.Database ?? "postgres",
            },
        };
        start.Environment["PGPASSWORD"] = cs.Password ?? string.Empty;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await stdout;
        var match = Tps().Match(text);
        if (process.ExitCode != 0 || !match.Success || text.Contains("aborted", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"pgbench {script} failed ({process.ExitCode}): {text} {await stderr}");
        }

        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private string Script(string script, int mix)
    {
        var t = $"\"{table}\"";
        var columns = "\"id\", \"email\", \"name\", \"created_at\"";
        var head = $"""
            \set r random(1, 100)
            \set k CASE WHEN :r <= {mix} THEN random(0, 999) ELSE random(1000000, 9000000000000000000) END
            \set v random(0, 1)
            \set id 0

            """;
        var insertFirst = $"""
            \startpipeline
            INSERT INTO {t} ("email", "name") VALUES ('hot-' || :k, 'x') ON CONFLICT ("email") DO NOTHING RETURNING {columns};
            SELECT {columns} FROM {t} WHERE "email" = 'hot-' || :k;
            \endpipeline

            """;
        return script switch
        {
            "insert-first" => head + insertFirst,
            "select-first" => head + $"SELECT {columns} FROM {t} WHERE \"email\" = 'hot-' || :k \\aset\n\\if :id = 0\n" + insertFirst + "\\endif\n",
            "do-nothing-then-select" => head +
                $"INSERT INTO {t} (\"email\", \"name\") VALUES ('hot-' || :k, 'x') ON CONFLICT (\"email\") DO NOTHING RETURNING {columns} \\aset\n" +
                $"\\if :id = 0\nSELECT {columns} FROM {t} WHERE \"email\" = 'hot-' || :k;\n\\endif\n",
            "upsert" => head +
                $"INSERT INTO {t} AS iw_target (\"email\", \"name\") VALUES ('hot-' || :k, 'n' || :v) ON CONFLICT (\"email\") DO UPDATE SET \"name\" = EXCLUDED.\"name\" " +
                $"WHERE ROW(iw_target.\"name\") IS DISTINCT FROM ROW(EXCLUDED.\"name\") RETURNING {columns}, (iw_target.xmax = 0) AS iw_inserted \\aset\n" +
                $"\\if :id = 0\nSELECT {columns} FROM {t} WHERE \"email\" = 'hot-' || :k;\n\\endif\n",
            _ => throw new ArgumentOutOfRangeException(nameof(script), script, null),
        };
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex Tps();
}

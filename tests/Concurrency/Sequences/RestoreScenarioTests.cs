// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace IdempotentWrites.ConcurrencyTests.Sequences;

// The classic scenario end to end: 50,000 users restored with their ids, the sequence left at 1, every default insert
// failing on users_pkey until `iw sequences fix` runs.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class RestoreScenarioTests(PostgresFixture db)
{
    private const string PostgresRoot = "/usr/lib/postgresql";
    private const string UsersDdl = "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())";
    private const string InsertUser = "INSERT INTO users (email) VALUES ($1) RETURNING id";

    [Fact]
    public async Task CopyWithExplicitIds_CheckExits1NamingUsersId_FixMakesNextInsert50001_SecondFixChangesNothing()
    {
        await using var database = await TestDatabase.CreateAsync(db, "iw_copy");
        await database.ExecuteAsync(UsersDdl);
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        {
            await using var import = await connection.BeginBinaryImportAsync("COPY users (id, email) FROM STDIN (FORMAT BINARY)");
            for (var id = 1; id <= 50_000; id++)
            {
                await import.StartRowAsync();
                await import.WriteAsync(id, NpgsqlDbType.Integer);
                await import.WriteAsync($"user{id}@example.com", NpgsqlDbType.Text);
            }

            await import.CompleteAsync();
        }

        await AssertRestoredStateThenRepairAsync(database, check: () => Cli.RunAsync("sequences", "check", "--connection", database.ConnectionString));
    }

    [Fact]
    public async Task PgDumpPgRestoreDataOnlyTableUsers_BuiltToolCheckExits1_FixMakesNextInsert50001_SecondFixChangesNothing()
    {
        var bin = await PostgresBinForServerAsync();
        await using var source = await TestDatabase.CreateAsync(db, "iw_dump_src");
        await using var target = await TestDatabase.CreateAsync(db, "iw_dump_dst");
        await source.ExecuteAsync(UsersDdl);
        await source.ExecuteAsync("INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 50000) g");
        Assert.Equal(50_000L, await source.ScalarAsync<long>("SELECT last_value FROM users_id_seq"));

        // The target's schema comes from migrations; the data from a table-only restore, which carries no SEQUENCE SET.
        await target.ExecuteAsync(UsersDdl);
        var dump = Path.Combine(Path.GetTempPath(), $"{source.Name}.dump");
        try
        {
            await RunPostgresToolAsync(bin, "pg_dump", source.ConnectionString, "--format=custom", "--table=users", $"--file={dump}");
            await RunPostgresToolAsync(bin, "pg_restore", target.ConnectionString, "--data-only", "--table=users", dump);
        }
        finally
        {
            File.Delete(dump);
        }

        Assert.Equal(50_000L, await target.ScalarAsync<long>("SELECT count(*) FROM users"));

        // `iw` as built (the dll that `dotnet run` and an installed tool run), connecting through PG* variables like psql.
        await AssertRestoredStateThenRepairAsync(target, check: () => Cli.RunBinaryAsync(Cli.LibpqEnvironment(target.ConnectionString), "sequences", "check"));
    }

    private static async Task AssertRestoredStateThenRepairAsync(TestDatabase database, Func<Task<CliRun>> check)
    {
        var conflict = await Assert.ThrowsAsync<PostgresException>(() => InsertAsync(database, "new@example.com"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, conflict.SqlState);
        Assert.Equal("users_pkey", conflict.ConstraintName);

        var checkRun = await check();
        Assert.True(checkRun.ExitCode == 1, $"check exit {checkRun.ExitCode}: {checkRun.Output} {checkRun.Error}");
        var usersLine = Assert.Single(checkRun.Output.Split('\n'), l => l.Contains("users_id_seq", StringComparison.Ordinal));
        Assert.Contains("drifted", usersLine, StringComparison.Ordinal);
        Assert.Contains("public.users.id (serial)", usersLine, StringComparison.Ordinal);
        Assert.Contains("50001", usersLine, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", checkRun.Output + checkRun.Error, StringComparison.OrdinalIgnoreCase);

        var fix = await Cli.RunAsync("sequences", "fix", "--connection", database.ConnectionString);
        Assert.True(fix.ExitCode == 0, $"fix exit {fix.ExitCode}: {fix.Output} {fix.Error}");
        Assert.Contains("repaired   public.users_id_seq (public.users.id): next 2 -> 50001 (data 50000)", fix.Output, StringComparison.Ordinal); // the failed insert drew 1

        Assert.Equal(50_001, await InsertAsync(database, "new@example.com"));
        var state = await database.ScalarAsync<long>("SELECT last_value FROM users_id_seq");

        var again = await Cli.RunAsync("sequences", "fix", "--json", "--connection", database.ConnectionString);
        Assert.Equal(0, again.ExitCode);
        using var json = JsonDocument.Parse(again.Output);
        Assert.Equal(0, json.RootElement.GetProperty("repaired").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("repairs").GetArrayLength());
        var users = Assert.Single(json.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("name").GetString() == "users_id_seq");
        Assert.Equal("healthy", users.GetProperty("status").GetString());
        Assert.Equal(state, await database.ScalarAsync<long>("SELECT last_value FROM users_id_seq"));
        Assert.Equal(50_002, await InsertAsync(database, "newer@example.com"));

        var recheck = await Cli.RunAsync("sequences", "check", "--connection", database.ConnectionString);
        Assert.Equal(0, recheck.ExitCode);
    }

    private static async Task<long> InsertAsync(TestDatabase database, string email)
    {
        await using var command = database.DataSource.CreateCommand(InsertUser);
        command.Parameters.Add(new NpgsqlParameter { Value = email });
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // pg_dump refuses a server newer than itself: take the newest installed client at least as new as the server.
    // Debian 12 ships 15 only and the npm server builds carry no client tools, so on 16 and later this test skips.
    private async Task<string> PostgresBinForServerAsync()
    {
        var server = int.Parse(await db.ScalarAsync<string>("SHOW server_version_num"), System.Globalization.CultureInfo.InvariantCulture) / 10_000;
        var clients = (Directory.Exists(PostgresRoot) ? Directory.GetDirectories(PostgresRoot) : [])
            .Select(d => (Major: int.TryParse(Path.GetFileName(d), out var major) ? major : 0, Bin: Path.Combine(d, "bin")))
            .Where(c => File.Exists(Path.Combine(c.Bin, "pg_dump")) && File.Exists(Path.Combine(c.Bin, "pg_restore")))
            .OrderByDescending(c => c.Major)
            .ToList();
        Assert.True(clients.Count > 0, $"pg_dump and pg_restore not found under {PostgresRoot}/*/bin (Debian's postgresql-client).");
        if (clients[0].Major < server)
        {
            Assert.Skip($"pg_dump {clients[0].Major} cannot dump PostgreSQL {server} (it refuses newer servers) and no newer client is installed.");
        }

        return clients[0].Bin;
    }

    private static async Task RunPostgresToolAsync(string bin, string tool, string connectionString, params string[] args)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(Path.Combine(bin, tool)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { $"--host={builder.Host}", $"--port={builder.Port}", $"--username={builder.Username}", $"--dbname={builder.Database}", "--no-password" }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PGPASSWORD"] = builder.Password ?? string.Empty;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Waits.Timeout);
        Assert.True(process.ExitCode == 0, $"{tool} failed ({process.ExitCode}): {await error}{await output}");
    }
}

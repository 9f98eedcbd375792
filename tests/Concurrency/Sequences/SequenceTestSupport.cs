// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using IdempotentWrites.Cli;
using IdempotentWrites.Cli.Internal;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Sequences;

// A database of its own, for tests that check or restore a whole database (dropped, with its connections, at the end).
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly PostgresFixture _db;

    private TestDatabase(PostgresFixture db, string name)
    {
        _db = db;
        Name = name;
        ConnectionString = db.ConnectionStringWith(b => b.Database = name);
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static async Task<TestDatabase> CreateAsync(PostgresFixture db, string prefix)
    {
        var name = Names.Table(prefix);
        await db.ExecuteAsync($"CREATE DATABASE \"{name}\"");
        return new TestDatabase(db, name);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await _db.ExecuteAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }
}

// A schema of its own in the shared database; the doctor is scoped to it (and still compares data in every schema).
public sealed class TestSchema : IAsyncDisposable
{
    private readonly PostgresFixture _db;

    private TestSchema(PostgresFixture db, string name)
    {
        _db = db;
        Name = name;
    }

    public string Name { get; }

    public static async Task<TestSchema> CreateAsync(PostgresFixture db, string prefix = "seq")
    {
        var name = Names.Table(prefix);
        await db.ExecuteAsync($"CREATE SCHEMA \"{name}\"");
        return new TestSchema(db, name);
    }

    public string Q(string table) => $"\"{Name}\".\"{table}\"";

    public SequenceDoctor Doctor(NpgsqlDataSource dataSource, params string[] moreSchemas)
    {
        var options = new SequenceDoctorOptions();
        options.Schemas.Add(Name);
        foreach (var schema in moreSchemas)
        {
            options.Schemas.Add(schema);
        }

        return new SequenceDoctor(dataSource, options);
    }

    public ValueTask DisposeAsync() => new(_db.ExecuteAsync($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE"));
}

public sealed record CliRun(int ExitCode, string Output, string Error);

public static class Cli
{
    // The CLI's own entry point, in-process, with its own writers and environment (no console, no progress line).
    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new CliContext(output, error, name => environment is not null && environment.TryGetValue(name, out var v) ? v : null, showProgress: false);
        var exitCode = await Program.RunAsync(args, context).WaitAsync(Waits.Timeout);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    public static Task<CliRun> RunAsync(params string[] args) => RunAsync(null, args);

    // The built tool itself (the dll `dotnet run` and `dotnet tool install` run), as a child process.
    public static async Task<CliRun> RunBinaryAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = ToolPath();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Waits.Timeout);
        return new CliRun(process.ExitCode, await output, await error);
    }

    // The CLI project's own build output (artifacts/bin/IdempotentWrites.Cli/<configuration>/), next to this test's.
    public static string ToolPath()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(testOutput.Parent!.Parent!.FullName, "IdempotentWrites.Cli", testOutput.Name, "IdempotentWrites.Cli.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The built iw tool was not found at {path}; build the solution first.", path);
    }

    // PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE for a connection string, as a restore runbook would export them.
    public static Dictionary<string, string> LibpqEnvironment(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return new Dictionary<string, string>
        {
            ["PGHOST"] = builder.Host!,
            ["PGPORT"] = builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = builder.Username!,
            ["PGPASSWORD"] = builder.Password ?? string.Empty,
            ["PGDATABASE"] = builder.Database!,
        };
    }
}

public static class SequenceAsserts
{
    // The id the next insert with defaults gets (the insert stays: the sequence really advanced).
    public static async Task<long> NextDefaultInsertAsync(NpgsqlDataSource dataSource, string table, string column = "id")
    {
        await using var command = dataSource.CreateCommand($"INSERT INTO {table} DEFAULT VALUES RETURNING \"{column}\"");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<PostgresException> DefaultInsertFailsAsync(NpgsqlDataSource dataSource, string table)
        => await Assert.ThrowsAsync<PostgresException>(() => NextDefaultInsertAsync(dataSource, table));

    public static SequenceFinding Finding(SequenceCheckReport report, string schema, string name)
        => Assert.Single(report.Findings, f => f.Schema == schema && f.Name == name);
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests;

public sealed class User
{
    public long Id { get; set; }

    public string Email { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }
}

// A writer over its own service provider and data source, for one test.
public sealed class TestWriter : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private TestWriter(ServiceProvider provider)
    {
        _provider = provider;
        Writer = provider.GetRequiredService<IIdempotentWriter>();
    }

    public IIdempotentWriter Writer { get; }

    public IServiceProvider Services => _provider;

    public static TestWriter Create(
        string connectionString,
        Action<IdempotentWritesBuilder> map,
        Action<IdempotentWritesOptions>? options = null,
        ILoggerProvider? logs = null)
    {
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        }

        map(services.AddIdempotentWrites(o =>
        {
            o.ConnectionString = connectionString;
            options?.Invoke(o);
        }));
        return new TestWriter(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}

public static class Names
{
    private static int _counter;

    // A fresh table name per test, so tests never see each other's rows.
    public static string Table(string prefix) => $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref _counter)}";
}

public static class Waits
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Polls until a backend other than the caller waits on a lock of the given type (relation lock / transactionid / advisory).
    public static Task UntilBlockedAsync(NpgsqlDataSource dataSource, string lockType)
        => UntilCountAsync(dataSource, "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = $1", lockType, $"a {lockType} lock");

    // Polls until a backend waits on the given wait event (PgSleep: inside pg_sleep).
    public static Task UntilBackendWaitsAsync(NpgsqlDataSource dataSource, string waitEvent)
        => UntilCountAsync(dataSource, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = $1", waitEvent, waitEvent);

    // Polls until a backend of the given application name is idle inside a transaction (a transactional handler between its
    // writes and its commit); returns its process id.
    public static async Task<int> UntilIdleInTransactionAsync(NpgsqlDataSource dataSource, string applicationName)
    {
        var deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            await using var command = dataSource.CreateCommand(
                "SELECT pid FROM pg_stat_activity WHERE state = 'idle in transaction' AND application_name = $1 LIMIT 1");
            command.Parameters.Add(new NpgsqlParameter { Value = applicationName });
            if (await command.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            await Task.Delay(5); // polling a condition, not orchestrating the race
        }

        throw new TimeoutException($"No backend of {applicationName} was idle in a transaction within {Timeout}.");
    }

    private static async Task UntilCountAsync(NpgsqlDataSource dataSource, string sql, string parameter, string what)
    {
        var deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            await Task.Delay(5); // polling a condition, not orchestrating the race
        }

        throw new TimeoutException($"No backend started waiting on {what} within {Timeout}.");
    }
}

// Figures a test measured (not asserted): printed to the test output and appended to artifacts/TestResults/figures.txt.
public static class Figures
{
    public static void Record(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        var directory = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults");
        Directory.CreateDirectory(directory);
        File.AppendAllText(Path.Combine(directory, "figures.txt"), $"{DateTimeOffset.UtcNow:u} {line}{Environment.NewLine}");
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Reflection;
using Npgsql;
using Testcontainers.PostgreSql;

[assembly: AssemblyFixture(typeof(IdempotentWrites.ConcurrencyTests.PostgresFixture))]

namespace IdempotentWrites.ConcurrencyTests;

// One PostgreSQL for the whole suite, found in this order:
//  1. IW_TEST_CONNECTION (an Npgsql connection string; eng/test.sh sets it from eng/pg-local.sh),
//  2. a Docker engine, through Testcontainers (image from the embedded postgres.Dockerfile),
//  3. the throwaway local cluster of eng/pg-local.sh, started here.
// There is no skip: when none of them works, every test fails with the reason.
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ConnectionVariable = "IW_TEST_CONNECTION";

    private PostgreSqlContainer? _container;

    public string ConnectionString { get; private set; } = string.Empty;

    public string Source { get; private set; } = string.Empty;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            ConnectionString = fromEnvironment;
            Source = ConnectionVariable;
        }
        else if (DockerAvailable())
        {
            _container = new PostgreSqlBuilder(ImageFromDockerfile()).Build();
            await _container.StartAsync();
            ConnectionString = _container.GetConnectionString();
            Source = "Testcontainers";
        }
        else
        {
            ConnectionString = await StartLocalClusterAsync();
            Source = "eng/pg-local.sh";
        }

        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var command = DataSource.CreateCommand("SELECT version()");
        _ = await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (DataSource is not null)
        {
            await DataSource.DisposeAsync();
        }

        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    public string ConnectionStringWith(Action<NpgsqlConnectionStringBuilder> change)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        change(builder);
        return builder.ConnectionString;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    // Skips the calling test when the server ignores lc_messages: the npm builds that eng/pg-local.sh runs for 13, 14,
    // 16, 17 and 18 are compiled without NLS, so they accept lc_messages = 'de_DE.UTF-8' and still answer in English,
    // and a test meant to prove that nothing is read from the German text would prove nothing there. A missing OS
    // locale is still a failure (the connection is refused), not a skip.
    public async Task SkipUnlessServerTranslatesAsync(string lcMessages)
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionStringWith(b => b.Options = $"-c lc_messages={lcMessages}"));
        await using var command = dataSource.CreateCommand("SELECT 1 / 0");
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        if (error.MessageText == "division by zero")
        {
            var version = await ScalarAsync<string>("SHOW server_version");
            Assert.Skip($"PostgreSQL {version} was built without NLS: with lc_messages={lcMessages} it still answers in English.");
        }
    }

    private static bool DockerAvailable()
        => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");

    private static string ImageFromDockerfile()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("IdempotentWrites.ConcurrencyTests.postgres.Dockerfile")
            ?? throw new InvalidOperationException("postgres.Dockerfile is not embedded.");
        using var reader = new StreamReader(stream);
        var from = reader.ReadToEnd().Split('\n').First(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        return from["FROM ".Length..].Trim();
    }

    private static async Task<string> StartLocalClusterAsync()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "IdempotentWrites.sln")))
        {
            root = Path.GetDirectoryName(root);
        }

        if (root is null)
        {
            throw new InvalidOperationException($"No Docker engine, {ConnectionVariable} is not set, and the repository root (for eng/pg-local.sh) was not found above {AppContext.BaseDirectory}.");
        }

        var start = new ProcessStartInfo("bash", [Path.Combine(root, "eng", "pg-local.sh"), "start"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"eng/pg-local.sh start failed ({process.ExitCode}): {await error}");
        }

        return (await output).Trim();
    }
}

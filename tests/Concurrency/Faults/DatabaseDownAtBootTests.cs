// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Faults;

// The app starts before its database (Kubernetes, compose): the host must start, calls fail typed and transient, the
// readiness check says why, and everything recovers when the database appears, with no restart.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class DatabaseDownAtBootTests(PostgresFixture db)
{
    [Fact]
    public async Task HostStartsWithoutDatabase_CallsFailTyped_RecoversWhenDatabaseAppears()
    {
        var table = Names.Table("boot_users");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        var port = FreePort();
        var target = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        var connectionString = db.ConnectionStringWith(b =>
        {
            b.Host = "127.0.0.1";
            b.Port = port;
            b.Timeout = 3;
        });
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddIdempotentWrites(o =>
            {
                o.ConnectionString = connectionString;
                o.Retry.MaxRetryAttempts = 1;
                o.Retry.Delay = TimeSpan.FromMilliseconds(10);
            })
            .MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt));
        builder.Services.AddHealthChecks().AddIdempotentWritesCheck();
        using var host = builder.Build();
        var writer = host.Services.GetRequiredService<IIdempotentWriter>();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        await host.StartAsync(); // no database: the host starts anyway

        var down = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => writer.InsertOrGetAsync(new User { Email = "a@x", Name = "a" }));
        var unhealthy = (await health.CheckHealthAsync()).Entries[IdempotentWritesHealthChecksBuilderExtensions.DefaultName];
        Assert.True(down.IsTransient);
        Assert.Contains($"127.0.0.1:{port}", down.Message, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.StartsWith("Cannot connect to PostgreSQL", unhealthy.Description, StringComparison.Ordinal);

        // The database "comes up" on the port the app was pointed at.
        await using var proxy = new FaultProxy(target.Host!, target.Port, port);
        var deadline = Environment.TickCount64 + (long)Waits.Timeout.TotalMilliseconds;
        HealthReportEntry entry;
        do
        {
            entry = (await health.CheckHealthAsync()).Entries[IdempotentWritesHealthChecksBuilderExtensions.DefaultName];
        }
        while (entry.Status != HealthStatus.Healthy && Environment.TickCount64 < deadline && await Delay());

        var inserted = await writer.InsertOrGetAsync(new User { Email = "a@x", Name = "a" });
        await host.StopAsync();

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(WriteOutcome.Inserted, inserted.Outcome);
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task ReadinessCheck_InvalidMapping_UnhealthyNamingIt_NeverThrows()
    {
        var table = Names.Table("boot_present");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        var missing = Names.Table("boot_missing");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIdempotentWrites(o => o.ConnectionString = db.ConnectionString)
            .MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt))
            .MapTable<Ledger>(missing, t => t.ConflictOn(l => l.K).Generated(l => l.Id));
        services.AddHealthChecks().AddIdempotentWritesCheck(tags: ["ready"]);
        await using var provider = services.BuildServiceProvider();

        var entry = (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["idempotent-writes"];

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains($"1 of 2 table mappings do not match the database: Table mapping for {missing}: table \"{missing}\" does not exist", entry.Description, StringComparison.Ordinal);
        Assert.True(entry.Data.ContainsKey(missing));
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100); // polling the readiness check, not orchestrating a race
        return true;
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Sequences;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class SequenceDriftHealthCheckTests(PostgresFixture db)
{
    [Fact]
    public async Task DriftedSequence_Degraded_NamingIt_HealthyAfterFix()
    {
        await using var schema = await TestSchema.CreateAsync(db);
        await db.ExecuteAsync($"""
            CREATE TABLE {schema.Q("orders")} (id serial PRIMARY KEY);
            CREATE TABLE {schema.Q("customers")} (id serial PRIMARY KEY);
            INSERT INTO {schema.Q("orders")} SELECT generate_series(1, 40);
            INSERT INTO {schema.Q("customers")} DEFAULT VALUES;
            """);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(db.DataSource);
        services.AddHealthChecks().AddSequenceDriftCheck(tags: ["db"], configure: o => o.Schemas.Add(schema.Name));
        await using var provider = services.BuildServiceProvider();
        var health = provider.GetRequiredService<HealthCheckService>();

        var degraded = (await health.CheckHealthAsync()).Entries["sequence-drift"];

        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Equal(
            $"1 of 2 sequences are behind their data, so default inserts fail with duplicate-key errors: {schema.Name}.orders_id_seq. Repair with `iw sequences fix` or SequenceDoctor.FixAsync.",
            degraded.Description);
        Assert.Equal($"drifted: next value 1, data max 40, required 41; columns {schema.Name}.orders.id", Assert.Single(degraded.Data).Value);
        Assert.Equal(["db"], degraded.Tags);

        await schema.Doctor(db.DataSource).FixAsync();
        var healthy = (await health.CheckHealthAsync()).Entries["sequence-drift"];
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal("2 sequences checked; none is behind its data.", healthy.Description);
    }

    [Fact]
    public async Task ServerUnreachable_FailureStatus()
    {
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=nobody;Timeout=5");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddKeyedSingleton("audit", unreachable);
        services.AddHealthChecks().AddSequenceDriftCheck("audit-sequences", HealthStatus.Degraded, dataSourceServiceKey: "audit");
        await using var provider = services.BuildServiceProvider();

        var entry = (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["audit-sequences"];

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.StartsWith("The sequence drift check could not run:", entry.Description, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NpgsqlException>(entry.Exception);
    }

    [Fact]
    public async Task WriterWithConnectionStringOnly_CheckUsesTheWritersDataSource()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIdempotentWrites(o => o.ConnectionString = db.ConnectionString);
        services.AddHealthChecks().AddSequenceDriftCheck(configure: o => o.Schemas.Add("pg_catalog"));
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, report.Entries["sequence-drift"].Status);
    }

    [Fact]
    public async Task NoDataSourceRegistered_UnhealthyWithReason_NeverThrows()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHealthChecks().AddSequenceDriftCheck();
        await using var provider = services.BuildServiceProvider();

        var entry = (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["sequence-drift"];

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("register AddIdempotentWrites", entry.Description, StringComparison.Ordinal);
        Assert.Null(entry.Exception);
    }

    [Fact]
    public void AddSequenceDriftCheck_InvalidOptions_ThrowsAtRegistration()
    {
        var builder = new ServiceCollection().AddHealthChecks();

        var ex = Assert.Throws<ArgumentException>(() => builder.AddSequenceDriftCheck(configure: o => o.LockTimeout = TimeSpan.Zero));

        Assert.Equal("configure", ex.ParamName);
        Assert.StartsWith("SequenceDoctorOptions.LockTimeout must be positive and at most one hour; it is 00:00:00.", ex.Message, StringComparison.Ordinal);
    }
}

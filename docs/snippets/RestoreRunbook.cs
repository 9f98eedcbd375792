// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Npgsql;

namespace Snippets.RestoreRunbook;

// docs/restore-runbook.md

public static class RestoreRunbookExamples
{
    public static WebApplication HealthCheck(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var connectionString = builder.Configuration.GetConnectionString("Postgres")!;

        // <snippet:rb-health-check>
        // The check resolves NpgsqlDataSource from DI (IdempotentWritesOptions.ConnectionString does not register one).
        builder.Services.AddSingleton(NpgsqlDataSource.Create(connectionString));
        builder.Services.AddHealthChecks()
            .AddSequenceDriftCheck(tags: ["db"], timeout: TimeSpan.FromSeconds(30), configure: o => o.Schemas.Add("public"));

        var app = builder.Build();
        // A scan reads MAX of every sequence-fed column: give it its own endpoint, probed rarely.
        app.MapHealthChecks("/health/sequences", new HealthCheckOptions { Predicate = r => r.Tags.Contains("db") });
        // </snippet:rb-health-check>
        return app;
    }

    public static void Healing(WebApplicationBuilder builder)
    {
        // <snippet:rb-heal>
        builder.Services.AddIdempotentWrites(o =>
        {
            o.ConnectionString = builder.Configuration.GetConnectionString("Postgres");
            o.HealSequences = true;   // on a conflict on a generated key: repair that sequence, warn, retry once
        });
        // </snippet:rb-heal>
    }

    public static async Task<int> RestoreJobAsync(string connectionString, ILogger logger, CancellationToken ct)
    {
        // <snippet:rb-doctor>
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var doctor = new SequenceDoctor(dataSource, new SequenceDoctorOptions { Schemas = { "public" } }, logger);

        SequenceCheckReport check = await doctor.CheckAsync(ct);
        foreach (SequenceFinding drifted in check.Drifted)
        {
            // e.g. public.users_id_seq: next 2, data 50000, required 50001
            Console.WriteLine($"{drifted.DisplayName}: next {drifted.NextValue}, data {drifted.DataExtreme}, required {drifted.RequiredNextValue}");
        }

        if (check.HasDrift)
        {
            SequenceRepairReport fixes = await doctor.FixAsync(ct);   // PlanFixAsync: the same, as a dry run (Statements)
            return fixes.HasUnrepairedDrift ? 1 : 0;                  // skipped or failed repairs carry a Reason
        }

        return 0;
        // </snippet:rb-doctor>
    }
}

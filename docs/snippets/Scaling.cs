// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using Npgsql;

namespace Snippets.Scaling;

// docs/scaling.md

public sealed class LineItem
{
    public long TenantId { get; set; }

    public long Id { get; set; }

    public string Sku { get; set; } = "";

    public int Quantity { get; set; }
}

public static class ScalingExamples
{
    public static void PgBouncer(WebApplicationBuilder builder)
    {
        // <snippet:scale-pgbouncer>
        builder.Services.AddIdempotentWrites(o =>
        {
            o.ConnectionString = builder.Configuration.GetConnectionString("PgBouncer");   // Host=pgbouncer;Port=6432;...
            o.TransactionPooling = true;   // never prepare; the data source gets No Reset On Close=true, Max Auto Prepare=0
        });
        // </snippet:scale-pgbouncer>
    }

    public static void PgBouncerOwnDataSource(WebApplicationBuilder builder)
    {
        // <snippet:scale-pgbouncer-datasource>
        var pooled = new NpgsqlConnectionStringBuilder(builder.Configuration.GetConnectionString("PgBouncer"))
        {
            NoResetOnClose = true,   // no DISCARD ALL on a server connection PgBouncer lends to someone else
            MaxAutoPrepare = 0,      // no automatic preparation
        };
        builder.Services.AddSingleton(NpgsqlDataSource.Create(pooled.ConnectionString));
        builder.Services.AddIdempotentWrites(o => o.TransactionPooling = true);
        // </snippet:scale-pgbouncer-datasource>
    }

    public static void Coalescing(WebApplicationBuilder builder)
    {
        // <snippet:scale-coalesce>
        builder.Services.AddIdempotentWrites(o =>
        {
            o.ConnectionString = builder.Configuration.GetConnectionString("Postgres");
            o.CoalesceWrites = true;   // concurrent InsertOrGetAsync / UpsertAsync calls on one table share statements
        });
        // </snippet:scale-coalesce>
    }

    public static void Replicas(WebApplicationBuilder builder)
    {
        // <snippet:scale-replicas>
        // Host=pg1,pg2,pg3;...  one multi-host data source, two views of it
        var cluster = new NpgsqlDataSourceBuilder(builder.Configuration.GetConnectionString("Cluster")).BuildMultiHost();
        builder.Services.AddKeyedSingleton<NpgsqlDataSource>("primary", cluster.WithTargetSession(TargetSessionAttributes.Primary));
        builder.Services.AddKeyedSingleton<NpgsqlDataSource>("replica", cluster.WithTargetSession(TargetSessionAttributes.PreferStandby));

        // Writes, re-selects, the catalog checks and the Idempotency-Key store all use the writer's data source: the primary.
        builder.Services.AddIdempotentWrites(o => o.DataSourceServiceKey = "primary");
        builder.Services.AddHealthChecks().AddSequenceDriftCheck(dataSourceServiceKey: "primary");
        // </snippet:scale-replicas>
    }

    public static void Citus(IdempotentWritesBuilder writes)
    {
        // <snippet:scale-citus>
        // SELECT create_distributed_table('line_items', 'tenant_id');  -- unique index on (tenant_id, sku)
        writes.MapTable<LineItem>("line_items", t => t
            .ConflictOn(i => new { i.TenantId, i.Sku })   // the distribution column is part of the conflict target
            .Generated(i => i.Id));
        // </snippet:scale-citus>
    }
}

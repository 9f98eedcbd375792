// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IdempotentWrites.ConcurrencyTests;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class StartupValidationTests(PostgresFixture db)
{
    private async Task<TableMappingException> StartAsync(Action<IdempotentWritesBuilder> map)
    {
        var builder = Host.CreateApplicationBuilder();
        map(builder.Services.AddIdempotentWrites(o => o.ConnectionString = db.ConnectionString));
        using var host = builder.Build();
        return await Assert.ThrowsAsync<TableMappingException>(() => host.StartAsync());
    }

    [Fact]
    public async Task Start_DeferrableArbiterConstraint_FailsNamingIt()
    {
        var table = Names.Table("deferred");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL CONSTRAINT {table}_email_key UNIQUE DEFERRABLE INITIALLY IMMEDIATE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");

        var byColumns = await StartAsync(b => b.MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt)));
        var byName = await StartAsync(b => b.MapTable<User>(table, t => t.ConflictOnConstraint($"{table}_email_key").Generated(u => u.Id, u => u.CreatedAt)));

        Assert.Contains($"\"{table}_email_key\" is DEFERRABLE", byColumns.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{table}_email_key\" is DEFERRABLE", byName.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PartialIndexWithoutPredicate_FailsSuggestingWhere()
    {
        var table = Names.Table("partial");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz);
            CREATE UNIQUE INDEX {table}_active ON {table} (email) WHERE deleted_at IS NULL;
            """);

        var error = await StartAsync(b => b.MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt)));

        Assert.Contains("no unique index or constraint matches ON CONFLICT (\"email\")", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{table}_active (WHERE (deleted_at IS NULL))", error.Message, StringComparison.Ordinal);
        Assert.Contains("Where(", error.Message, StringComparison.Ordinal);
        Assert.Equal("42P10", error.SqlState);
    }

    [Fact]
    public async Task Start_IndexNameGivenAsConstraint_FailsSayingItIsAnIndex()
    {
        var table = Names.Table("index_not_constraint");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            CREATE UNIQUE INDEX {table}_email_idx ON {table} (email);
            """);

        var error = await StartAsync(b => b.MapTable<User>(table, t => t.ConflictOnConstraint($"{table}_email_idx").Generated(u => u.Id, u => u.CreatedAt)));

        Assert.Contains($"\"{table}_email_idx\" is a unique index, not a constraint", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConflictOn(...) with its columns (email)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MissingColumnMissingTableAndUnmarkedIdentityAlways_FailWithNames()
    {
        var table = Names.Table("shapes");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL)");

        var missingColumn = await StartAsync(b => b.MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id)));
        var identity = await StartAsync(b => b.MapTable<User>(table, t => t.ConflictOn(u => u.Email).Ignore(u => u.CreatedAt)));
        var missingTable = await StartAsync(b => b.MapTable<User>("Users_Missing", t => t.ConflictOn(u => u.Email)));

        Assert.Contains("User.CreatedAt maps to column \"created_at\", which the table does not have", missingColumn.Message, StringComparison.Ordinal);
        Assert.Contains("column \"id\" is GENERATED ALWAYS AS IDENTITY; mark User.Id with Generated(...)", identity.Message, StringComparison.Ordinal);
        Assert.Contains("table \"Users_Missing\" does not exist", missingTable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ValidMapping_Starts()
    {
        var table = Names.Table("valid");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddIdempotentWrites(o => o.ConnectionString = db.ConnectionString)
            .MapTable<User>(table, t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt));
        using var host = builder.Build();

        await host.StartAsync();
        var result = await host.Services.GetRequiredService<IIdempotentWriter>().InsertOrGetAsync(new User { Email = "e", Name = "n" });
        await host.StopAsync();

        Assert.Equal(WriteOutcome.Inserted, result.Outcome);
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using Npgsql;

namespace Snippets.GettingStarted;

// docs/getting-started.md

// <snippet:gs-row>
public sealed class User
{
    public long Id { get; set; }

    public string Email { get; set; } = "";

    public string Name { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}
// </snippet:gs-row>

public sealed record NewUser(string Email, string Name);

public sealed class Order
{
    public long Id { get; set; }

    public string Number { get; set; } = "";

    public DateTimeOffset PlacedAt { get; set; }
}

public static class GettingStartedApp
{
    public static WebApplication Create(string[] args)
    {
        // <snippet:gs-register>
        var builder = WebApplication.CreateBuilder(args);

        builder.Services
            .AddIdempotentWrites(o => o.ConnectionString = builder.Configuration.GetConnectionString("Postgres"))
            .MapTable<User>("users", t => t
                .ConflictOn(u => u.Email)                    // the conflict target: the unique index on email
                .Generated(u => u.Id, u => u.CreatedAt));    // filled by the database, never sent, read back

        var app = builder.Build();
        // </snippet:gs-register>

        // <snippet:gs-endpoint>
        app.MapPost("/users", async (NewUser input, IIdempotentWriter writer, CancellationToken ct) =>
        {
            WriteResult<User> result = await writer.InsertOrGetAsync(new User { Email = input.Email, Name = input.Name }, ct);
            return result.Outcome == WriteOutcome.Inserted
                ? Results.Created($"/users/{result.Row.Id}", result.Row)   // this call created the row
                : Results.Ok(result.Row);                                    // it existed: the stored row, not the input
        });
        // </snippet:gs-endpoint>
        return app;
    }

    public static IdempotentWritesBuilder WithDataSourceFromDi(WebApplicationBuilder builder, string connectionString)
    {
        // <snippet:gs-datasource>
        builder.Services.AddSingleton(NpgsqlDataSource.Create(connectionString));   // your own data source ...
        return builder.Services.AddIdempotentWrites()                               // ... used when ConnectionString is not set
            .MapTable<User>("users", t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt));
        // </snippet:gs-datasource>
    }

    public static void WithEfCoreNames(WebApplicationBuilder builder)
    {
        // <snippet:gs-naming-writer>
        builder.Services
            .AddIdempotentWrites(o =>
            {
                o.ConnectionString = builder.Configuration.GetConnectionString("Postgres");
                o.ColumnNaming = ColumnNamingConvention.AsIs;   // columns "Id", "Email", "Name", "CreatedAt"
            })
            .MapTable<User>("Users", t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt));
        // </snippet:gs-naming-writer>
    }

    public static IdempotentWritesBuilder WithOneEfCoreTable(WebApplicationBuilder builder)
    {
        // <snippet:gs-naming-table>
        return builder.Services
            .AddIdempotentWrites(o => o.ConnectionString = builder.Configuration.GetConnectionString("Postgres"))
            .MapTable<User>("users", t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt))
            .MapTable<Order>("Orders", t => t
                .ColumnNaming(ColumnNamingConvention.AsIs)        // this table only: "Id", "Number", "PlacedAt"
                .HasColumnName(o => o.PlacedAt, "placed_at")      // HasColumnName still wins
                .ConflictOn(o => o.Number)
                .Generated(o => o.Id));
        // </snippet:gs-naming-table>
    }

    public static async Task WithoutAHostAsync(string connectionString)
    {
        // <snippet:gs-console>
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ConnectionString = connectionString)
            .MapTable<User>("users", t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt));

        await using var provider = services.BuildServiceProvider();   // disposes the writer's data source
        var writer = provider.GetRequiredService<IIdempotentWriter>();
        var result = await writer.InsertOrGetAsync(new User { Email = "ada@example.com", Name = "Ada" });
        // </snippet:gs-console>
        Console.WriteLine(result);
    }

    public static async Task FirstCallsAsync(IIdempotentWriter writer, CancellationToken ct)
    {
        // <snippet:gs-first-call>
        WriteResult<User> first = await writer.InsertOrGetAsync(new User { Email = "ada@example.com", Name = "Ada" }, ct);
        WriteResult<User> again = await writer.InsertOrGetAsync(new User { Email = "ada@example.com", Name = "Someone else" }, ct);

        Console.WriteLine(first.Outcome);               // Inserted
        Console.WriteLine(first.Row.Id);                // the id the database generated, e.g. 1
        Console.WriteLine(again.Outcome);               // Existing
        Console.WriteLine(again.Row.Id == first.Row.Id); // True
        Console.WriteLine(again.Row.Name);              // Ada: the stored row, not your input
        Console.WriteLine(again.Created);               // False (Created is Outcome == Inserted)
        // </snippet:gs-first-call>
    }

    public static async Task UpsertAsync(IIdempotentWriter writer, CancellationToken ct)
    {
        // <snippet:gs-upsert>
        WriteResult<User> saved = await writer.UpsertAsync(new User { Email = "ada@example.com", Name = "Ada Lovelace" }, ct);
        string what = saved.Outcome switch
        {
            WriteOutcome.Inserted => "new row",
            WriteOutcome.Updated => "existing row changed",
            WriteOutcome.Unchanged => "existing row already held these values: nothing written",
            _ => throw new InvalidOperationException($"Unexpected outcome {saved.Outcome}."),
        };
        // </snippet:gs-upsert>
        Console.WriteLine(what);
    }

    public static async Task<IResult> RegisterAsync(IIdempotentWriter writer, string email, string name, CancellationToken ct)
    {
        // <snippet:gs-unique-violation>
        try
        {
            User created = await writer.InsertAsync(new User { Email = email, Name = name }, ct);   // a duplicate is an error here
            return Results.Created($"/users/{created.Id}", created);
        }
        catch (UniqueViolationException e) when (e.ConstraintName == "users_email_key")
        {
            // e.SchemaName "public", e.TableName "users", e.Columns ["email"], e.IsPrimaryKey false,
            // e.Values["email"] (from the SDK's own parameters; never logged, never in e.Message)
            return Results.Conflict(new { field = e.Columns[0], message = "This email is already registered." });
        }
        // </snippet:gs-unique-violation>
    }
}

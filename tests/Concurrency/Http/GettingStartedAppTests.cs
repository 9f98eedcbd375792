// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using UsersApi;

namespace IdempotentWrites.ConcurrencyTests.Http;

// An app built exactly as docs/getting-started.md shows (AddIdempotentWrites, MapTable, AddConflictProblemDetails, Build,
// an endpoint that inserts): no UseExceptionHandler, and still a duplicate is 409 problem+json, in Production and in
// Development (where the developer exception page would otherwise answer 500).
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class GettingStartedAppTests(PostgresFixture db)
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task DuplicateInsert_WithoutUseExceptionHandler_409UniqueViolationProblem(string environment)
    {
        var schema = await TestSchema.CreateAsync(db, "getting_started");
        await db.ExecuteAsync($"""
            CREATE TABLE {schema}.users (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email text NOT NULL CONSTRAINT users_email_key UNIQUE,
                name text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now())
            """);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        RunningApp.UseTestServer(builder);
        builder.Configuration["ConnectionStrings:Postgres"] = TestSchema.ConnectionString(db, schema);

        builder.Services
            .AddIdempotentWrites(o => o.ConnectionString = builder.Configuration.GetConnectionString("Postgres"))
            .MapTable<User>("users", t => t
                .ConflictOn(u => u.Email)
                .Generated(u => u.Id, u => u.CreatedAt))
            .AddConflictProblemDetails();

        var app = builder.Build();
        app.MapPost("/users/register", async (UserInput input, IIdempotentWriter writer, CancellationToken ct) =>
        {
            User created = await writer.InsertAsync(new User { Email = input.Email!, Name = input.Name! }, ct);
            return Results.Created($"/users/{created.Id}", created);
        });
        app.MapPost("/fail", IResult () => throw new InvalidOperationException("Not an integrity error."));
        await using var running = await RunningApp.StartAsync(app);

        var first = await Http.SendAsync(running.Client, Http.Post("/users/register", new { email = "ada@example.com", name = "Ada" }));
        var duplicate = await Http.SendAsync(running.Client, Http.Post("/users/register", new { email = "ada@example.com", name = "Ada" }));
        var other = await Http.SendAsync(running.Client, Http.Post("/fail", new { }));

        Assert.Equal(201, first.Status);
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("application/problem+json", duplicate.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("unique-violation", duplicate.Code);
        Assert.Equal("users_email_key", duplicate.Json().GetProperty("constraint").GetString());
        Assert.Equal(["email"], duplicate.Json().GetProperty("fields").EnumerateArray().Select(f => f.GetString()).ToArray());
        Assert.DoesNotContain("ada@example.com", duplicate.Text, StringComparison.Ordinal);

        // Every other exception is left alone: still a 500.
        Assert.Equal(500, other.Status);
    }
}

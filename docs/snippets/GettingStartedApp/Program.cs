// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

// docs/getting-started.md, section 9: the whole Program.cs of the getting-started app, as the page shows it. It builds here
// with the solution (project references); eng/pack-check.sh builds the page's copy against the packed packages, runs it and
// sends the page's requests, and checks that the page's block is this region, line for line.
// <snippet:gs-program>
using IdempotentWrites;

var builder = WebApplication.CreateBuilder(args);

builder.Services
    .AddIdempotentWrites(o => o.ConnectionString = builder.Configuration.GetConnectionString("Postgres"))
    .MapTable<User>("users", t => t
        .ConflictOn(u => u.Email)                    // the conflict target: the unique index on email
        .Generated(u => u.Id, u => u.CreatedAt))     // filled by the database, never sent, read back
    .AddConflictProblemDetails();                    // a UniqueViolationException becomes a 409 problem (section 8)

var app = builder.Build();

// Section 5, insert-or-get: 201 when this call created the row, 200 and the stored row when it existed.
app.MapPost("/users", async (NewUser input, IIdempotentWriter writer, CancellationToken ct) =>
{
    WriteResult<User> result = await writer.InsertOrGetAsync(new User { Email = input.Email, Name = input.Name }, ct);
    return result.Outcome == WriteOutcome.Inserted
        ? Results.Created($"/users/{result.Row.Id}", result.Row)   // this call created the row
        : Results.Ok(result.Row);                                    // it existed: the stored row, not the input
});

// Section 8, a plain insert: a duplicate throws UniqueViolationException, which AddConflictProblemDetails answers with 409.
app.MapPost("/users/register", async (NewUser input, IIdempotentWriter writer, CancellationToken ct) =>
{
    User created = await writer.InsertAsync(new User { Email = input.Email, Name = input.Name }, ct);
    return Results.Created($"/users/{created.Id}", created);
});

app.Run();

public sealed record NewUser(string Email, string Name);

public sealed class User
{
    public long Id { get; set; }

    public string Email { get; set; } = "";

    public string Name { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}
// </snippet:gs-program>

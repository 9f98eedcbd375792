// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using IdempotentWrites.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ShopApi;

// The whole app, built here so tests can host it in-process (on Kestrel, any port) with their own settings.
public static class ShopApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var connectionString = builder.Configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("Set the connection string ConnectionStrings:Postgres (environment variable ConnectionStrings__Postgres).");
        }

        // One data source (one pool) for EF Core and the SDK.
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddDbContextPool<ShopDb>((sp, o) => o.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()).UseIdempotentWrites());

        // Registered first: the migrations run before anything else starts.
        builder.Services.AddHostedService<ApplyMigrations>();

        // The 409 problem details for the SDK's typed conflicts, which UseIdempotentWrites() makes SaveChanges throw too; and,
        // once the migrations ran, every entity with an idempotent key checked against the database (the start fails if not).
        builder.Services.AddIdempotentWrites()
            .AddConflictProblemDetails(o => o.ConstraintMessages["IX_customers_Email"] = "This email is already registered.")
            .ValidateEntityMappings<ShopDb>();

        var app = builder.Build();

        // Idempotent create: a retried or concurrent request gets the stored customer (201 the first time, then 200).
        app.MapPost("/customers", async (CustomerInput input, ShopDb db, CancellationToken cancellationToken) =>
        {
            if (Invalid(input) is { } problem)
            {
                return problem;
            }

            var result = await db.Customers.InsertOrGetAsync(new Customer { Email = input.Email!, Name = input.Name! }, cancellationToken);
            return result.Outcome == WriteOutcome.Inserted
                ? Results.Created($"/customers/{result.Row.Id}", result.Row)
                : Results.Ok(result.Row);
        });

        // Plain EF: a duplicate email makes SaveChanges throw UniqueViolationException, answered 409 problem+json.
        app.MapPost("/customers/register", async (CustomerInput input, ShopDb db, CancellationToken cancellationToken) =>
        {
            if (Invalid(input) is { } problem)
            {
                return problem;
            }

            var customer = new Customer { Email = input.Email!, Name = input.Name! };
            db.Customers.Add(customer);
            await db.SaveChangesAsync(cancellationToken);
            return Results.Created($"/customers/{customer.Id}", customer);
        });

        app.MapGet("/customers/{id:long}", async (long id, ShopDb db, CancellationToken cancellationToken)
            => await db.Customers.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is { } customer
                ? Results.Ok(customer)
                : Results.NotFound());
        return app;
    }

    private static IResult? Invalid(CustomerInput input)
        => string.IsNullOrWhiteSpace(input.Email) || string.IsNullOrWhiteSpace(input.Name)
            ? Results.ValidationProblem(new Dictionary<string, string[]> { ["email"] = ["Email and name are required."] })
            : null;
}

public sealed record CustomerInput(string? Email, string? Name);

// Applies the EF migrations (samples/Shop.Api/Migrations) when the app starts.
internal sealed class ApplyMigrations(IServiceScopeFactory scopes) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ShopDb>().Database.MigrateAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

// <snippet:ef-program>
using IdempotentWrites;
using IdempotentWrites.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres to an Npgsql connection string.");
var services = new ServiceCollection();
services.AddDbContext<ShopDb>(o => o.UseNpgsql(connectionString).UseIdempotentWrites());
await using var provider = services.BuildServiceProvider();

await using (var scope = provider.CreateAsyncScope())
{
    // An empty database gets the model's tables; an app with migrations calls MigrateAsync() here instead.
    await scope.ServiceProvider.GetRequiredService<ShopDb>().Database.EnsureCreatedAsync();
}

// Two requests with the same email, each with its own context: one row, the same id for both.
foreach (var name in new[] { "Ada", "Ada again" })
{
    await using var scope = provider.CreateAsyncScope();
    var db = scope.ServiceProvider.GetRequiredService<ShopDb>();
    var result = await db.Customers.InsertOrGetAsync(new Customer { Email = "ada@example.com", Name = name });
    Console.WriteLine($"{result.Outcome}: customer {result.Row.Id}, {result.Row.Name}");
}

// Plain SaveChanges with a duplicate: a typed error naming the constraint, its columns, the value and the entity.
await using (var scope = provider.CreateAsyncScope())
{
    var db = scope.ServiceProvider.GetRequiredService<ShopDb>();
    db.Customers.Add(new Customer { Email = "ada@example.com", Name = "Ada's twin" });
    try
    {
        await db.SaveChangesAsync();
    }
    catch (UniqueViolationException ex)
    {
        Console.WriteLine(
            $"{ex.ConstraintName} on ({string.Join(", ", ex.Columns)}) = {ex.Values?["Email"]}; entity {string.Join(", ", ex.EntityTypes)}");
    }
}

public sealed class ShopDb(DbContextOptions<ShopDb> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var customer = modelBuilder.Entity<Customer>();
        customer.HasIndex(c => c.Email).IsUnique();
        customer.HasIdempotentKey(c => c.Email);
    }
}

public sealed class Customer
{
    public long Id { get; set; }

    public string Email { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;
}

// </snippet:ef-program>

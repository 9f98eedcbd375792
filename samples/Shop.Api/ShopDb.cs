// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ShopApi;

public sealed class Customer
{
    public long Id { get; set; }

    public string Email { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class ShopDb(DbContextOptions<ShopDb> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var customer = modelBuilder.Entity<Customer>();
        customer.ToTable("customers");
        customer.HasIndex(c => c.Email).IsUnique();
        customer.Property(c => c.CreatedAt).HasDefaultValueSql("now()");

        // The key InsertOrGetAsync and UpsertAsync conflict on (the only unique index would be chosen anyway).
        customer.HasIdempotentKey(c => c.Email);
    }
}

// For `dotnet ef migrations add` only: the model, without a server.
internal sealed class ShopDbDesignTimeFactory : IDesignTimeDbContextFactory<ShopDb>
{
    public ShopDb CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<ShopDb>().UseNpgsql("Host=localhost").Options);
}

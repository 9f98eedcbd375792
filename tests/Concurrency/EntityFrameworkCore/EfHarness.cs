// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.EntityFrameworkCore;

public sealed class EfUser
{
    public long Id { get; set; }

    public string Email { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public int Age { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public List<EfOrder> Orders { get; set; } = [];
}

public sealed class EfOrder
{
    public Guid Id { get; set; }

    // The conflict key by attribute: the entity has two unique indexes, so without it the choice would be refused.
    [IdempotentKey]
    public string Reference { get; set; } = string.Empty;

    public long EfUserId { get; set; }

    public EfUser? EfUser { get; set; }
}

public enum EfNaming
{
    // EF's defaults: "EfUsers"."Email", quoted PascalCase.
    Default,

    // EFCore.NamingConventions: ef_users.email.
    SnakeCase,
}

// What differs between the test models; part of EF's model cache key.
public sealed record EfShape(
    string Table,
    EfNaming Naming = EfNaming.Default,
    string? DefaultSchema = null,
    bool SeedIds = false,
    bool KeyOnName = false);

public sealed class EfUsersDb(DbContextOptions<EfUsersDb> options, EfShape shape) : DbContext(options)
{
    public EfShape Shape { get; } = shape;

    public DbSet<EfUser> Users => Set<EfUser>();

    public DbSet<EfOrder> Orders => Set<EfOrder>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        if (Shape.DefaultSchema is not null)
        {
            modelBuilder.HasDefaultSchema(Shape.DefaultSchema);
        }

        var user = modelBuilder.Entity<EfUser>();
        user.ToTable(Shape.Table, t => t.HasCheckConstraint($"{Shape.Table}_age_check", Shape.Naming == EfNaming.SnakeCase ? "age >= 0" : "\"Age\" >= 0"));
        user.HasIndex(u => u.Email).IsUnique();
        user.Property(u => u.CreatedAt).HasDefaultValueSql("clock_timestamp()");
        if (Shape.KeyOnName)
        {
            // A key the database has no unique index for.
            user.HasIdempotentKey(u => u.Name);
        }
        else
        {
            user.HasIdempotentKey(u => u.Email);
        }
        if (Shape.SeedIds)
        {
            user.HasData(
                new EfUser { Id = 1, Email = "seed-1@example.com", Name = "seed", CreatedAt = DateTimeOffset.UnixEpoch },
                new EfUser { Id = 2, Email = "seed-2@example.com", Name = "seed", CreatedAt = DateTimeOffset.UnixEpoch });
        }

        var order = modelBuilder.Entity<EfOrder>();
        order.ToTable(Shape.Table + "_orders");
        order.HasIndex(o => o.Reference).IsUnique();
        order.HasIndex(o => new { o.EfUserId, o.Reference }).IsUnique();
    }
}

public sealed class EfShapeCacheKeyFactory : IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime) => (context.GetType(), ((EfUsersDb)context).Shape, designTime);
}

// An application's service provider with one EfUsersDb per scope, as in a web request, over the application's data source.
public sealed class EfApp : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private EfApp(ServiceProvider provider) => _provider = provider;

    public static async Task<EfApp> CreateAsync(PostgresFixture db, EfShape shape, Action<IServiceCollection>? more = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(shape);
        services.AddSingleton(NpgsqlDataSource.Create(db.ConnectionStringWith(b => b.MaxPoolSize = 150)));
        services.AddDbContext<EfUsersDb>((sp, o) =>
        {
            o.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>());
            if (shape.Naming == EfNaming.SnakeCase)
            {
                o.UseSnakeCaseNamingConvention();
            }

            o.UseIdempotentWrites().ReplaceService<IModelCacheKeyFactory, EfShapeCacheKeyFactory>();
        });
        more?.Invoke(services);
        var app = new EfApp(services.BuildServiceProvider());

        // The DDL migrations would run (EnsureCreated does nothing in a database that has tables).
        await using var scope = app.Scope();
        await db.ExecuteAsync(scope.Db.Database.GenerateCreateScript());
        return app;
    }

    public IServiceProvider Services => _provider;

    public EfScope Scope() => new(_provider.CreateAsyncScope());

    // What the host does when it starts.
    public async Task StartHostedServicesAsync()
    {
        foreach (var service in _provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
        }
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}

public sealed class EfScope(AsyncServiceScope scope) : IAsyncDisposable
{
    public EfUsersDb Db { get; } = scope.ServiceProvider.GetRequiredService<EfUsersDb>();

    public ValueTask DisposeAsync() => scope.DisposeAsync();
}

public enum Mood
{
    Calm,
    Cross,
}

public sealed class Converted
{
    public long Id { get; set; }

    public string Key { get; set; } = string.Empty;

    public Mood Mood { get; set; }
}

public class Animal
{
    public long Id { get; set; }

    public string Key { get; set; } = string.Empty;
}

public sealed class Dog : Animal
{
    public bool Barks { get; set; }
}

public sealed class Post
{
    public long Id { get; set; }

    public string Slug { get; set; } = string.Empty;

    public List<Comment> Comments { get; set; } = [];
}

public sealed class Comment
{
    public long Id { get; set; }

    public string Key { get; set; } = string.Empty;
}

public sealed class TwoKeys
{
    public long Id { get; set; }

    public string A { get; set; } = string.Empty;

    public string B { get; set; } = string.Empty;
}

// Shapes the SDK refuses: a value converter, inheritance, a shadow foreign key, two unique indexes and no idempotent key.
public sealed class EfRefusedDb(DbContextOptions<EfRefusedDb> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Converted>().Property(c => c.Mood).HasConversion<string>();
        modelBuilder.Entity<Converted>().HasIdempotentKey(c => c.Key);
        modelBuilder.Entity<Converted>().HasIndex(c => c.Key).IsUnique();
        modelBuilder.Entity<Animal>().HasIndex(a => a.Key).IsUnique();
        modelBuilder.Entity<Dog>();
        modelBuilder.Entity<Post>().HasIndex(p => p.Slug).IsUnique();
        modelBuilder.Entity<Comment>().HasIndex(c => c.Key).IsUnique();
        modelBuilder.Entity<TwoKeys>().HasIndex(t => t.A).IsUnique();
        modelBuilder.Entity<TwoKeys>().HasIndex(t => t.B).IsUnique();
    }
}

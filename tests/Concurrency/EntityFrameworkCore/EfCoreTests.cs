// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdempotentWrites.ConcurrencyTests.EntityFrameworkCore;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class EfCoreTests(PostgresFixture db)
{
    private const int Callers = 64;
    private const int Rounds = 50;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InsertOrGet_64ContextsSameKey_50Rounds_OneInsertedSameIdNoException(bool explicitTransaction)
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_race"), EfNaming.SnakeCase));
        await using (var warm = app.Scope())
        {
            await warm.Db.Users.InsertOrGetAsync(new EfUser { Email = "warmup", Name = "w" });
        }

        for (var round = 0; round < Rounds; round++)
        {
            var email = $"racer-{round}@example.com";
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var calls = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
            {
                await using var scope = app.Scope();
                await gate.Task;
                if (!explicitTransaction)
                {
                    return await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = email, Name = $"caller {i}" });
                }

                await using var transaction = await scope.Db.Database.BeginTransactionAsync();
                var result = await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = email, Name = $"caller {i}" });
                await transaction.CommitAsync();
                return result;
            })).ToArray();
            gate.SetResult();
            var results = await Task.WhenAll(calls).WaitAsync(Waits.Timeout);

            Assert.Equal(1, results.Count(r => r.Outcome == WriteOutcome.Inserted));
            Assert.Equal(Callers - 1, results.Count(r => r.Outcome == WriteOutcome.Existing));
            Assert.Single(results.Select(r => r.Row.Id).Distinct());
            Assert.Single(results.Select(r => r.Row.Name).Distinct());
            await using var check = app.Scope();
            Assert.Equal(1, await check.Db.Users.CountAsync(u => u.Email == email));
            Assert.Equal(results[0].Row.Id, (await check.Db.Users.SingleAsync(u => u.Email == email)).Id);
        }
    }

    [Theory]
    [InlineData(EfNaming.Default, null)]
    [InlineData(EfNaming.SnakeCase, null)]
    [InlineData(EfNaming.Default, "schema")]
    public async Task Model_NamesFromTheModel_InsertOrGetAndUpsertWriteTheRightColumns(EfNaming naming, string? schema)
    {
        var table = Names.Table("ef_names");
        var defaultSchema = schema is null ? null : Names.Table("ef_schema");
        await using var app = await EfApp.CreateAsync(db, new EfShape(table, naming, defaultSchema));
        await using var scope = app.Scope();

        var first = await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "ada@example.com", Name = "Ada", Age = 36 });
        var again = await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "ada@example.com", Name = "other", Age = 1 }, track: false);
        var upserted = await scope.Db.Users.UpsertAsync(new EfUser { Email = "ada@example.com", Name = "Ada L.", Age = 37 }, track: false);

        Assert.Equal(WriteOutcome.Inserted, first.Outcome);
        Assert.Equal(WriteOutcome.Existing, again.Outcome);
        Assert.Equal(first.Row.Id, again.Row.Id);
        Assert.Equal("Ada", again.Row.Name);
        Assert.Equal(WriteOutcome.Updated, upserted.Outcome);
        Assert.NotEqual(default, first.Row.CreatedAt);

        // The row as EF reads it, through the same model.
        await using var check = app.Scope();
        var stored = await check.Db.Users.AsNoTracking().SingleAsync(u => u.Email == "ada@example.com");
        Assert.Equal((first.Row.Id, "Ada L.", 37), (stored.Id, stored.Name, stored.Age));
        var qualified = naming == EfNaming.SnakeCase
            ? $"SELECT name FROM {table} WHERE email = 'ada@example.com'"
            : $"SELECT \"Name\" FROM {(defaultSchema is null ? string.Empty : $"\"{defaultSchema}\".")}\"{table}\" WHERE \"Email\" = 'ada@example.com'";
        Assert.Equal("Ada L.", await db.ScalarAsync<string>(qualified));
    }

    [Fact]
    public async Task Tracking_AttachedUnchanged_TrackedInstanceReturned_UpsertRefreshesIt_OptOutLeavesTrackerAlone()
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_track")));
        await using var scope = app.Scope();
        var context = scope.Db;

        var inserted = await context.Users.InsertOrGetAsync(new EfUser { Email = "t@example.com", Name = "T" });
        Assert.Equal(EntityState.Unchanged, context.Entry(inserted.Row).State);

        var existing = await context.Users.InsertOrGetAsync(new EfUser { Email = "t@example.com", Name = "ignored" });
        Assert.Same(inserted.Row, existing.Row);
        Assert.Single(context.ChangeTracker.Entries<EfUser>());

        var upserted = await context.Users.UpsertAsync(new EfUser { Email = "t@example.com", Name = "T2", Age = 5 });
        Assert.Same(inserted.Row, upserted.Row);
        Assert.Equal(("T2", 5), (inserted.Row.Name, inserted.Row.Age));
        Assert.Equal(EntityState.Unchanged, context.Entry(inserted.Row).State);

        // The tracked entity then saves like any other.
        inserted.Row.Age = 6;
        await context.SaveChangesAsync();
        Assert.Equal(6, await db.ScalarAsync<int>($"SELECT \"Age\" FROM \"{context.Shape.Table}\" WHERE \"Email\" = 't@example.com'"));

        await using var other = app.Scope();
        var untracked = await other.Db.Users.InsertOrGetAsync(new EfUser { Email = "u@example.com", Name = "U" }, track: false);
        Assert.Equal(WriteOutcome.Inserted, untracked.Outcome);
        Assert.Empty(other.Db.ChangeTracker.Entries());
    }

    [Fact]
    public async Task Transaction_RolledBack_InsertOrGetLeavesNothing_AndTheTransactionStaysUsableAfterAConflict()
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_tx")));
        await using var scope = app.Scope();
        await using (var transaction = await scope.Db.Database.BeginTransactionAsync())
        {
            var result = await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "gone@example.com", Name = "G" });
            Assert.Equal(WriteOutcome.Inserted, result.Outcome);

            // A check violation inside the transaction: typed, and the savepoint keeps the transaction usable.
            await Assert.ThrowsAsync<CheckViolationException>(
                () => scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "bad@example.com", Name = "B", Age = -1 }, track: false));
            Assert.Equal(1, await scope.Db.Users.CountAsync());
            await transaction.RollbackAsync();
        }

        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM \"{scope.Db.Shape.Table}\""));
    }

    [Fact]
    public async Task SaveChanges_Duplicate_ThrowsUniqueViolationWithConstraintColumnsValuesAndEntity()
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_dup"), EfNaming.SnakeCase));
        await using (var first = app.Scope())
        {
            first.Db.Users.Add(new EfUser { Email = "dup@example.com", Name = "first" });
            await first.Db.SaveChangesAsync();
        }

        await using var second = app.Scope();
        second.Db.Users.Add(new EfUser { Email = "dup@example.com", Name = "second" });
        var error = await Assert.ThrowsAsync<UniqueViolationException>(() => second.Db.SaveChangesAsync());

        Assert.Equal($"ix_{second.Db.Shape.Table}_email", error.ConstraintName);
        Assert.Equal(second.Db.Shape.Table, error.TableName);
        Assert.Equal(["email"], error.Columns);
        Assert.Equal("dup@example.com", error.Values!["email"]);
        Assert.Equal([nameof(EfUser)], error.EntityTypes);
        Assert.Contains(nameof(EfUser), error.Message, StringComparison.Ordinal);
        Assert.IsType<DbUpdateException>(error.InnerException);
        Assert.True(UniqueViolation.TryFrom(error, out _));

        // Synchronous SaveChanges too; and a NOT NULL / check violation arrive typed.
        Assert.Throws<UniqueViolationException>(() => second.Db.SaveChanges());
        second.Db.ChangeTracker.Clear();
        second.Db.Users.Add(new EfUser { Email = "neg@example.com", Name = "n", Age = -1 });
        var check = await Assert.ThrowsAsync<CheckViolationException>(() => second.Db.SaveChangesAsync());
        Assert.Equal([nameof(EfUser)], check.EntityTypes);
    }

    [Fact]
    public async Task ClientGeneratedGuidKey_AndForeignKey_WriteThroughTheModel()
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_guid")));
        await using var scope = app.Scope();
        var user = (await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "o@example.com", Name = "O" })).Row;

        var order = await scope.Db.Orders.InsertOrGetAsync(new EfOrder { Reference = "R-1", EfUserId = user.Id });
        var again = await scope.Db.Orders.InsertOrGetAsync(new EfOrder { Reference = "R-1", EfUserId = user.Id });
        Assert.Equal(WriteOutcome.Inserted, order.Outcome);
        Assert.NotEqual(Guid.Empty, order.Row.Id);
        Assert.Same(order.Row, again.Row);

        var error = await Assert.ThrowsAsync<ForeignKeyViolationException>(
            () => scope.Db.Orders.InsertOrGetAsync(new EfOrder { Reference = "R-2", EfUserId = -5 }));
        Assert.Equal($"FK_{scope.Db.Shape.Table}_orders_{scope.Db.Shape.Table}_EfUserId", error.ConstraintName);
    }

    [Fact]
    public async Task ExplicitIdsThroughSaveChanges_DriftTheSequence_TypedAsGeneratedKey_DoctorFixesIt()
    {
        var schema = Names.Table("ef_seed");
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_seeded"), DefaultSchema: schema, SeedIds: true));
        var doctor = new SequenceDoctor(db.DataSource, new SequenceDoctorOptions { Schemas = { schema } });

        // EF's HasData seeding leaves no drift: the provider's create script ends with setval(...).
        Assert.False((await doctor.CheckAsync()).HasDrift);

        // An import with explicit ids (what a copy from another database does) leaves the identity's sequence behind.
        await using var scope = app.Scope();
        scope.Db.Users.AddRange(
            new EfUser { Id = 3, Email = "import-3@example.com", Name = "I" },
            new EfUser { Id = 4, Email = "import-4@example.com", Name = "I" });
        await scope.Db.SaveChangesAsync();
        scope.Db.ChangeTracker.Clear();

        scope.Db.Users.Add(new EfUser { Email = "new@example.com", Name = "N" });
        var error = await Assert.ThrowsAsync<UniqueViolationException>(() => scope.Db.SaveChangesAsync());
        Assert.True(error.IsPrimaryKey);
        Assert.True(error.IsGeneratedKey);
        Assert.Contains("iw sequences fix", error.Message, StringComparison.Ordinal);

        Assert.Single((await doctor.CheckAsync()).Drifted);
        Assert.Equal(1, (await doctor.FixAsync()).RepairedCount);
        Assert.False((await doctor.CheckAsync()).HasDrift);

        await scope.Db.SaveChangesAsync();
        Assert.Equal(5L, (await scope.Db.Users.SingleAsync(u => u.Email == "new@example.com")).Id);
    }

    [Fact]
    public async Task InsertMany_OnTheSet_SkipsExistingKeys_AndRefusesInsideTheContextsTransaction()
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_bulk")));
        await using var scope = app.Scope();
        await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "b-1", Name = "old" });

        var report = await scope.Db.Users.InsertManyAsync(
            Enumerable.Range(0, 100).Select(i => new EfUser { Email = $"b-{i}", Name = "bulk" }));
        Assert.Equal((99L, 1L), (report.Inserted, report.Existing));
        Assert.Equal(100L, await db.ScalarAsync<long>($"SELECT count(*) FROM \"{scope.Db.Shape.Table}\""));

        await using var transaction = await scope.Db.Database.BeginTransactionAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => scope.Db.Users.InsertManyAsync([new EfUser { Email = "x", Name = "x" }]));
    }

    [Fact]
    public async Task UnmappableEntities_RefusedOnFirstUse_NamingTheEntityAndTheReason_BeforeAnySql()
    {
        var services = new ServiceCollection();
        services.AddSingleton(db.DataSource);
        services.AddDbContext<EfRefusedDb>(o => o.UseNpgsql(db.DataSource));
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<EfRefusedDb>();

        async Task<string> RefusedAsync<T>(T entity)
            where T : class
            => (await Assert.ThrowsAsync<TableMappingException>(() => context.Set<T>().InsertOrGetAsync(entity))).Message;

        Assert.Contains("entity type Converted", await RefusedAsync(new Converted { Key = "k" }), StringComparison.Ordinal);
        Assert.Contains("value converter", await RefusedAsync(new Converted { Key = "k" }), StringComparison.Ordinal);
        Assert.Contains("inheritance", await RefusedAsync(new Dog { Key = "k" }), StringComparison.Ordinal);
        Assert.Contains("inheritance", await RefusedAsync(new Animal { Key = "k" }), StringComparison.Ordinal);
        var shadow = await RefusedAsync(new Comment { Key = "k" });
        Assert.Contains("entity type Comment", shadow, StringComparison.Ordinal);
        Assert.Contains("PostId", shadow, StringComparison.Ordinal);
        Assert.Contains("HasIdempotentKey", await RefusedAsync(new TwoKeys { A = "a", B = "b" }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseFilledColumns_LeftToTheDatabaseAtTheSentinel_SentOtherwise_AsEfWritesThem()
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_defaults")));
        await using var scope = app.Scope();
        var stamp = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);

        var defaulted = await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "d@example.com", Name = "D" }, track: false);
        var given = await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "g@example.com", Name = "G", CreatedAt = stamp }, track: false);
        var explicitId = await scope.Db.Users.UpsertAsync(new EfUser { Id = 500, Email = "i@example.com", Name = "I" }, track: false);

        Assert.True(defaulted.Row.CreatedAt > DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(stamp, given.Row.CreatedAt);
        Assert.Equal(500L, explicitId.Row.Id);
        Assert.Equal(
            stamp.ToUnixTimeSeconds(),
            await db.ScalarAsync<long>($"SELECT extract(epoch FROM \"CreatedAt\")::bigint FROM \"{scope.Db.Shape.Table}\" WHERE \"Email\" = 'g@example.com'"));

        // A bulk load sends one column list: an entity that differs from the first is refused, naming the property.
        // The core reports it as an input error: nothing of that load was written.
        var mixed = await Assert.ThrowsAsync<BulkWriteException>(() => scope.Db.Users.InsertManyAsync(
            [new EfUser { Email = "m1", Name = "m" }, new EfUser { Email = "m2", Name = "m", CreatedAt = stamp }]));
        var input = Assert.IsType<InvalidOperationException>(mixed.InnerException);
        Assert.Contains("Entity 2", input.Message, StringComparison.Ordinal);
        Assert.Contains("CreatedAt", input.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM \"{scope.Db.Shape.Table}\" WHERE \"Email\" LIKE 'm_'"));
    }

    [Fact]
    public async Task PerCallConflictKey_OverridesTheModelsKey()
    {
        await using var app = await EfApp.CreateAsync(db, new EfShape(Names.Table("ef_percall")));
        await using var scope = app.Scope();
        var stored = (await scope.Db.Users.InsertOrGetAsync(new EfUser { Email = "p@example.com", Name = "P" }, track: false)).Row;

        // The same id under another email: on the model's key (Email) a new row, here Existing on the primary key.
        var byId = await scope.Db.Users.InsertOrGetAsync(
            new EfUser { Id = stored.Id, Email = "other@example.com", Name = "O" }, u => u.Id, track: false);
        Assert.Equal(WriteOutcome.Existing, byId.Outcome);
        Assert.Equal("p@example.com", byId.Row.Email);

        var upserted = await scope.Db.Users.UpsertAsync(new EfUser { Id = stored.Id, Email = "p@example.com", Name = "P2" }, u => u.Id);
        Assert.Equal(WriteOutcome.Updated, upserted.Outcome);
        Assert.Equal("P2", upserted.Row.Name);
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM \"{scope.Db.Shape.Table}\""));
        Assert.Throws<ArgumentException>(() => scope.Db.Users.InsertOrGetAsync(new EfUser(), u => u.Name.Length).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task ValidateEntityMappings_AtStartup_PassesForTheModel_FailsForAMissingUniqueIndexAndAnUnmappableEntity()
    {
        await using (var valid = await EfApp.CreateAsync(
            db, new EfShape(Names.Table("ef_valid")), s => s.AddIdempotentWrites().ValidateEntityMappings<EfUsersDb>()))
        {
            await valid.StartHostedServicesAsync();
        }

        // The model names Name as the key, and the database has no unique index on it: the start fails, naming the table.
        var table = Names.Table("ef_nokey");
        await using var missing = await EfApp.CreateAsync(
            db, new EfShape(table, KeyOnName: true), s => s.AddIdempotentWrites().ValidateEntityMappings<EfUsersDb>());
        var noIndex = await Assert.ThrowsAsync<TableMappingException>(missing.StartHostedServicesAsync);
        Assert.Contains(table, noIndex.Message, StringComparison.Ordinal);

        // An entity with a key named in the model but a value converter: refused at startup, before any write.
        var services = new ServiceCollection();
        services.AddSingleton(db.DataSource);
        services.AddDbContext<EfRefusedDb>(o => o.UseNpgsql(db.DataSource));
        services.AddIdempotentWrites().ValidateEntityMappings<EfRefusedDb>();
        await using var provider = services.BuildServiceProvider();
        var refused = await Assert.ThrowsAsync<TableMappingException>(async () =>
        {
            foreach (var service in provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
            {
                await service.StartAsync(CancellationToken.None);
            }
        });
        Assert.Contains("entity type Converted", refused.Message, StringComparison.Ordinal);
    }
}

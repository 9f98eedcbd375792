// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Http;

public sealed class Account
{
    public long Id { get; set; }

    public string Email { get; set; } = string.Empty;
}

// Transactional mode through the writer, with a pool no larger than the number of requests in flight: every failing
// request must release its key or store its 409 on the connection it already holds.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class TransactionalModeTests(PostgresFixture db)
{
    private const int Concurrency = 3;
    private const string Schema = """
        CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL CONSTRAINT accounts_email_key UNIQUE);
        INSERT INTO accounts (email) VALUES ('taken@example.com');
        """;

    private static int s_runs;

    [Theory]
    [InlineData("throw")]
    [InlineData("writer-duplicate")]
    [InlineData("raw-duplicate")]
    public async Task PoolSizeEqualsConcurrency_EveryFailingRequestAnswered_KeyReleasedOr409Stored(string mode)
    {
        var schema = await TestSchema.CreateAsync(db, "tx_pool");
        await db.ExecuteAsync($"SET search_path TO {schema}; {Schema}");
        var barrier = new Barrier(Concurrency);
        await using var app = await StartAsync(schema, barrier, maxPoolSize: Concurrency);
        var runsBefore = Volatile.Read(ref s_runs);

        var replies = await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(
            i => Task.Run(() => Http.SendAsync(app.Client, Http.Post($"/accounts/{mode}", new { i }, key: $"{mode}-{i}"))))).WaitAsync(Waits.Timeout);

        Assert.Equal(Concurrency, Volatile.Read(ref s_runs) - runsBefore);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "accounts"));
        if (mode == "throw")
        {
            Assert.All(replies, r => Assert.Equal(500, r.Status));

            // Released: no key is left in progress, and a retry runs the handler again at once (no 409 in-progress).
            Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys"));
            barrier.RemoveParticipants(Concurrency - 1);
            var retry = await Http.SendAsync(app.Client, Http.Post($"/accounts/{mode}", new { i = 0 }, key: $"{mode}-0"));
            Assert.Equal(500, retry.Status);
            Assert.Equal(Concurrency + 1, Volatile.Read(ref s_runs) - runsBefore);
            return;
        }

        Assert.All(replies, r =>
        {
            Assert.Equal(409, r.Status);
            Assert.Equal("unique-violation", r.Code);
            Assert.Contains("\"email\"", r.Text, StringComparison.Ordinal);
        });
        Assert.Equal(Concurrency, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys", "completed_at IS NOT NULL"));
        for (var i = 0; i < Concurrency; i++)
        {
            var replay = await Http.SendAsync(app.Client, Http.Post($"/accounts/{mode}", new { i }, key: $"{mode}-{i}"));
            Assert.True(replay.Replayed);
            Assert.Equal(replies[i].Body, replay.Body);
        }
    }

    [Fact]
    public async Task WriterWithoutTransaction_JoinsTheRequestTransaction_CommitsWithTheResponse_OrRollsBack()
    {
        var schema = await TestSchema.CreateAsync(db, "tx_ambient");
        await db.ExecuteAsync($"SET search_path TO {schema}; {Schema}");
        await using var app = await StartAsync(schema, new Barrier(1));

        var created = await Http.SendAsync(app.Client, Http.Post("/accounts/create?email=a@example.com", new { }, key: "a"));
        var failed = await Http.SendAsync(app.Client, Http.Post("/accounts/create?email=b@example.com&status=503", new { }, key: "b"));
        var audit = await Http.SendAsync(app.Client, Http.Post("/accounts/create?email=c@example.com&status=503&suppress=true", new { }, key: "c"));
        var bulk = await Http.SendAsync(app.Client, Http.Post("/accounts/bulk", new { }, key: "d"));

        Assert.Equal(201, created.Status);
        Assert.Equal(503, failed.Status);
        Assert.Equal(503, audit.Status);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "accounts", "email = 'a@example.com'"));
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "accounts", "email = 'b@example.com'"));

        // Written within AmbientTransaction.Suppress(): committed on its own, whatever the request's outcome.
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "accounts", "email = 'c@example.com'"));
        Assert.Equal(200, bulk.Status);
        Assert.Contains("InsertManyAsync commits on its own", bulk.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetIdempotencyTransaction_OnANonTransactionalPolicy_SaysWhy()
    {
        var schema = await TestSchema.CreateAsync(db, "tx_why");
        await db.ExecuteAsync($"SET search_path TO {schema}; {Schema}");
        await using var app = await StartAsync(schema, new Barrier(1));

        var plain = await Http.SendAsync(app.Client, Http.Post("/why/plain", new { }, key: "k"));
        var none = await Http.SendAsync(app.Client, Http.Post("/why/none", new { }));

        Assert.Contains("uses the policy 'plain', which is not transactional", plain.Text, StringComparison.Ordinal);
        Assert.Contains("does not require an Idempotency-Key", none.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MisspelledPolicyName_HostFailsToStart_NamingEndpointAndPolicy()
    {
        var schema = await TestSchema.CreateAsync(db, "tx_typo");
        var builder = WebApplication.CreateSlimBuilder();
        RunningApp.UseTestServer(builder);
        builder.Services.AddIdempotentWrites(o => o.ConnectionString = TestSchema.ConnectionString(db, schema))
            .AddHttpIdempotency(o =>
            {
                o.PurgeExpiredKeys = false;
                o.AddPolicy("payments", p => p.Transactional = true);
            });
        await using var app = builder.Build();
        app.UseIdempotency();
        app.MapPost("/pay", () => Results.Ok()).RequireIdempotencyKey("paymnets");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync().WaitAsync(Waits.Timeout));

        Assert.Contains("requires the idempotency policy 'paymnets'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'payments'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EndpointsRequireAKey_WithoutUseIdempotency_HostFailsToStart_InABranch_Starts(bool inBranch)
    {
        var schema = await TestSchema.CreateAsync(db, "tx_nomw");
        var builder = WebApplication.CreateSlimBuilder();
        RunningApp.UseTestServer(builder);
        builder.Services.AddIdempotentWrites(o => o.ConnectionString = TestSchema.ConnectionString(db, schema))
            .AddHttpIdempotency(o =>
            {
                o.PurgeExpiredKeys = false;
                o.CreateStoreTable = true;
                o.AnonymousScope = "test";
            });
        await using var app = builder.Build();
        if (inBranch)
        {
            app.UseWhen(static context => context.Request.Path.StartsWithSegments("/api"), static branch => branch.UseIdempotency());
        }

        app.MapPost("/api/pay", () => Results.Ok()).RequireIdempotencyKey();

        if (!inBranch)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync().WaitAsync(Waits.Timeout));
            Assert.Contains("app.UseIdempotency() was not called", error.Message, StringComparison.Ordinal);
            Assert.Contains("/api/pay", error.Message, StringComparison.Ordinal);
            return;
        }

        await using var running = await RunningApp.StartAsync(app);
        var missingKey = await Http.SendAsync(running.Client, Http.Post("/api/pay", new { }));
        Assert.Equal(400, missingKey.Status);
        Assert.Equal("missing-key", missingKey.Code);
    }

    private async Task<RunningApp> StartAsync(string schema, Barrier barrier, int? maxPoolSize = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        RunningApp.UseTestServer(builder);
        var connectionString = TestSchema.ConnectionString(db, schema) + (maxPoolSize is { } size ? $";Maximum Pool Size={size};Timeout=10" : string.Empty);
        builder.Services.AddIdempotentWrites(o => o.ConnectionString = connectionString)
            .MapTable<Account>("accounts", t => t.ConflictOn(a => a.Email).Generated(a => a.Id))
            .AddConflictProblemDetails()
            .AddHttpIdempotency(o =>
            {
                o.CreateStoreTable = true;
                o.PurgeExpiredKeys = false;
                o.Transactional = true;
                o.AnonymousScope = "test";
                o.AddPolicy("plain", p => p.Transactional = false);
            });
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseIdempotency();

        // Every handler has written a row in its transaction before it waits for the others: then all the pool's
        // connections are held by transactional handlers, and all of them fail at once.
        app.MapPost("/accounts/{mode}", async (string mode, HttpContext context, IIdempotentWriter writer) =>
        {
            Interlocked.Increment(ref s_runs);
            await writer.InsertAsync(new Account { Email = $"run-{Guid.NewGuid():N}@example.com" });
            barrier.SignalAndWait(Waits.Timeout);
            switch (mode)
            {
                case "writer-duplicate":
                    await writer.InsertAsync(new Account { Email = "taken@example.com" });
                    break;
                case "raw-duplicate":
                    var transaction = context.GetIdempotencyTransaction();
                    await using (var command = new NpgsqlCommand(
                        "INSERT INTO accounts (email) VALUES ('taken@example.com')",
                        transaction.Connection,
                        transaction.Transaction))
                    {
                        await command.ExecuteNonQueryAsync();
                    }

                    break;
            }

            throw new InvalidOperationException("The handler failed.");
        }).RequireIdempotencyKey();

        app.MapPost("/accounts/create", async (string email, int? status, bool? suppress, IIdempotentWriter writer) =>
        {
            using (suppress == true ? AmbientTransaction.Suppress() : null)
            {
                await writer.InsertOrGetAsync(new Account { Email = email });
            }

            return Results.Json(new { email }, statusCode: status ?? 201);
        }).RequireIdempotencyKey();

        app.MapPost("/accounts/bulk", async (IIdempotentWriter writer) =>
        {
            try
            {
                await writer.InsertManyAsync([new Account { Email = "bulk@example.com" }]);
                return Results.Ok("written");
            }
            catch (InvalidOperationException ex)
            {
                return Results.Ok(ex.Message);
            }
        }).RequireIdempotencyKey();

        app.MapPost("/why/plain", Why).RequireIdempotencyKey("plain");
        app.MapPost("/why/none", Why);
        return await RunningApp.StartAsync(app);
    }

    private static IResult Why(HttpContext context)
    {
        try
        {
            context.GetIdempotencyTransaction();
            return Results.Ok("in a transaction");
        }
        catch (InvalidOperationException ex)
        {
            return Results.Ok(ex.Message);
        }
    }
}

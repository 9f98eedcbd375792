// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Http;

// Stands in for EF Core's DbUpdateException: wraps the PostgresException the way EF Core does.
public sealed class DbUpdateException(string message, Exception inner) : Exception(message, inner);

// Lets a test hold a handler mid-flight: Started when it runs, then it waits for Release (ignoring cancellation, like
// code that does not observe RequestAborted).
public sealed class Gate
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<int> BackendProcessId { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Run by /hook after the handler's write, before it answers (e.g. take the key store's database away).
    public Func<Task>? BeforeResponse { get; set; }
}

// The caller is whoever X-Caller says: the scope resolver is the app's to choose.
public sealed class CallerScopeResolver : IIdempotencyScopeResolver
{
    public ValueTask<string?> ResolveScopeAsync(HttpContext context, CancellationToken cancellationToken)
        => ValueTask.FromResult<string?>(context.Request.Headers["X-Caller"].FirstOrDefault() ?? "caller-default");
}

// An app with one endpoint per behaviour under test. Every handler run inserts a row into runs, so the tests can count runs.
public static class BehaviourApp
{
    public const string Schema = """
        CREATE TABLE runs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, endpoint text NOT NULL);
        CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL CONSTRAINT accounts_email_key UNIQUE);
        """;

    public static int InMemoryRuns;

    public static async Task<RunningApp> StartAsync(
        string connectionString,
        Gate? gate = null,
        string? storeConnectionString = null,
        Action<HttpIdempotencyOptions>? configure = null,
        Action<IdempotentWritesOptions>? writer = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        RunningApp.UseTestServer(builder);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton(gate ?? new Gate());
        builder.Services.AddSingleton<IIdempotencyScopeResolver, CallerScopeResolver>();
        builder.Services.AddIdempotentWrites(o =>
            {
                o.ConnectionString = storeConnectionString ?? connectionString;
                writer?.Invoke(o);
            })
            .AddConflictProblemDetails()
            .AddHttpIdempotency(o =>
            {
                o.CreateStoreTable = storeConnectionString is null;
                o.PurgeExpiredKeys = false;
                o.AddPolicy("small", p => p.MaxResponseBodySize = 1024);
                o.AddPolicy("tx", p => p.Transactional = true);
                configure?.Invoke(o);
            });
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseIdempotency();
        Map(app);
        return await RunningApp.StartAsync(app);
    }

    private static void Map(WebApplication app)
    {
        app.MapPost("/ok", async (HttpContext context, NpgsqlDataSource dataSource) =>
        {
            var run = await RecordRunAsync(dataSource, "ok");
            context.Response.Headers.ETag = $"\"v{run}\"";
            context.Response.Headers.SetCookie = "session=secret; HttpOnly";
            context.Response.Headers["X-Not-Replayed"] = "1";
            return Results.Created($"/ok/{run}", new { run });
        }).RequireIdempotencyKey();

        app.MapPost("/hook", async (Gate gate, NpgsqlDataSource dataSource) =>
        {
            var run = await RecordRunAsync(dataSource, "hook");
            if (gate.BeforeResponse is { } hook)
            {
                await hook();
            }

            return Results.Created($"/hook/{run}", new { run });
        }).RequireIdempotencyKey();

        app.MapPost("/status/{code:int}", async (int code, NpgsqlDataSource dataSource) =>
        {
            var run = await RecordRunAsync(dataSource, "status");
            return Results.Json(new { run, code }, statusCode: code);
        }).RequireIdempotencyKey();

        app.MapPost("/throw", async (NpgsqlDataSource dataSource) =>
        {
            await RecordRunAsync(dataSource, "throw");
            throw new InvalidOperationException("The handler failed.");
        }).RequireIdempotencyKey();

        app.MapPost("/big", async (HttpContext context, NpgsqlDataSource dataSource) =>
        {
            await RecordRunAsync(dataSource, "big");
            context.Response.StatusCode = 201;
            context.Response.ContentType = "text/plain";
            context.Response.Headers.Location = "/big/1";
            await context.Response.WriteAsync(new string('x', 4096));
        }).RequireIdempotencyKey("small");

        app.MapPost("/gate", async (Gate gate, NpgsqlDataSource dataSource) =>
        {
            gate.Started.TrySetResult();
            await gate.Release.Task;
            var run = await RecordRunAsync(dataSource, "gate");
            return Results.Created($"/gate/{run}", new { run });
        }).RequireIdempotencyKey();

        app.MapPost("/tx/gate", async (HttpContext context, Gate gate) =>
        {
            var transaction = context.Features.GetRequiredFeature<IIdempotencyTransactionFeature>();
            var run = await RecordRunAsync(transaction, "tx-gate");
            gate.BackendProcessId.TrySetResult(transaction.Connection.ProcessID);
            gate.Started.TrySetResult();
            await gate.Release.Task;
            return Results.Created($"/tx/{run}", new { run });
        }).RequireIdempotencyKey("tx");

        app.MapPost("/tx/status/{code:int}", async (int code, HttpContext context) =>
        {
            var run = await RecordRunAsync(context.Features.GetRequiredFeature<IIdempotencyTransactionFeature>(), "tx-status");
            return Results.Json(new { run, code }, statusCode: code);
        }).RequireIdempotencyKey("tx");

        app.MapPost("/tx/duplicate", async (HttpContext context) =>
        {
            var transaction = context.Features.GetRequiredFeature<IIdempotencyTransactionFeature>();
            await RecordRunAsync(transaction, "tx-duplicate");
            await using var command = new NpgsqlCommand("INSERT INTO accounts (email) VALUES ('taken@example.com')", transaction.Connection, transaction.Transaction);
            await command.ExecuteNonQueryAsync();
            return Results.Created("/accounts/1", new { });
        }).RequireIdempotencyKey("tx");

        // EF Core style: the app's own data access throws a raw PostgresException, wrapped.
        app.MapPost("/wrapped", async (NpgsqlDataSource dataSource) =>
        {
            await RecordRunAsync(dataSource, "wrapped");
            try
            {
                await using var command = dataSource.CreateCommand("INSERT INTO accounts (email) VALUES ('taken@example.com')");
                await command.ExecuteNonQueryAsync();
            }
            catch (PostgresException ex)
            {
                throw new DbUpdateException("An error occurred while saving the entity changes. See the inner exception for details.", ex);
            }

            return Results.Created("/accounts/1", new { });
        }).RequireIdempotencyKey();

        app.MapPost("/wrapped-plain", async (NpgsqlDataSource dataSource) =>
        {
            try
            {
                await using var command = dataSource.CreateCommand("INSERT INTO accounts (email) VALUES ('taken@example.com')");
                await command.ExecuteNonQueryAsync();
            }
            catch (PostgresException ex)
            {
                throw new DbUpdateException("An error occurred while saving the entity changes. See the inner exception for details.", ex);
            }

            return Results.Created("/accounts/1", new { });
        });

        app.MapPost("/memory", () =>
        {
            Interlocked.Increment(ref InMemoryRuns);
            return Results.Created("/memory/1", new { });
        }).RequireIdempotencyKey();
    }

    private static async Task<long> RecordRunAsync(NpgsqlDataSource dataSource, string endpoint)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO runs (endpoint) VALUES ($1) RETURNING id");
        command.Parameters.Add(new NpgsqlParameter { Value = endpoint });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> RecordRunAsync(IIdempotencyTransactionFeature transaction, string endpoint)
    {
        await using var command = new NpgsqlCommand("INSERT INTO runs (endpoint) VALUES ($1) RETURNING id", transaction.Connection, transaction.Transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = endpoint });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

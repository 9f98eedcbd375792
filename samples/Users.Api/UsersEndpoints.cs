// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using IdempotentWrites.AspNetCore;
using Npgsql;

namespace UsersApi;

public sealed record UserInput(string? Email, string? Name);

public sealed record UserBody(long Id, string Email, string Name);

// Nullable so a missing field is told apart from 0: {"amountCents":5} has no user, and must not pay for user 0.
public sealed record PaymentInput(long? UserId, long? AmountCents, int? ProcessingMs);

public sealed record PaymentBody(long Id, long UserId, long AmountCents);

public sealed record OrderInput(string? OrderNumber, long? UserId, long? AmountCents, int? ProcessingMs);

public sealed record OrderBody(long Id, string OrderNumber, long UserId, long AmountCents);

public static class UsersEndpoints
{
    private const int MaxTextLength = 200;

    // A simulated downstream call, bounded: a request must not hold its transaction open for ever.
    private const int MaxProcessingMs = 60_000;

    public static void Map(WebApplication app)
    {
        app.MapPost("/users", async (UserInput input, IIdempotentWriter writer, CancellationToken ct) =>
        {
            if (Invalid(input) is { } problem)
            {
                return problem;
            }

            var result = await writer.InsertOrGetAsync(new User { Email = input.Email!, Name = input.Name! }, ct);
            var body = new UserBody(result.Row.Id, result.Row.Email, result.Row.Name);
            return result.Outcome == WriteOutcome.Inserted ? Results.Created($"/users/{body.Id}", body) : Results.Ok(body);
        });

        // A plain insert: a duplicate email throws UniqueViolationException, answered by AddConflictProblemDetails
        // with 409 application/problem+json (constraint users_email_key, field email, no value).
        app.MapPost("/users/register", async (UserInput input, IIdempotentWriter writer, CancellationToken ct) =>
        {
            if (Invalid(input) is { } problem)
            {
                return problem;
            }

            var row = await writer.InsertAsync(new User { Email = input.Email!, Name = input.Name! }, ct);
            return Results.Created($"/users/{row.Id}", new UserBody(row.Id, row.Email, row.Name));
        });

        app.MapGet("/users/{id:long}", async (long id, NpgsqlDataSource dataSource, CancellationToken ct) =>
        {
            await using var command = dataSource.CreateCommand("SELECT id, email, name FROM users WHERE id = $1");
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? Results.Ok(new UserBody(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)))
                : Results.NotFound();
        });

        // Every run of this handler inserts a payment: only the Idempotency-Key middleware keeps a retried request
        // from paying twice. processingMs simulates a slow downstream call (a card network) before the insert.
        // Transactional (policy "payments"): the payment row and the stored response commit together, so no failure
        // between them (a crash, a failover) can leave a payment whose key a retry would run again.
        app.MapPost("/payments", CreatePaymentAsync).RequireAuthorization().RequireIdempotencyKey("payments");

        app.MapGet("/payments/{id:long}", async (long id, NpgsqlDataSource dataSource, CancellationToken ct) =>
        {
            await using var command = dataSource.CreateCommand("SELECT id, user_id, amount_cents FROM payments WHERE id = $1");
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? Results.Ok(new PaymentBody(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)))
                : Results.NotFound();
        }).RequireAuthorization();

        // Transactional: the order, its outbox message and the stored response commit together, or none does. A retry
        // of a request that failed or was cut off runs again on a clean slate; one that succeeded is replayed.
        app.MapPost("/orders", CreateOrderAsync).RequireAuthorization().RequireIdempotencyKey("orders");

        app.MapGet("/orders/{id:long}", async (long id, NpgsqlDataSource dataSource, CancellationToken ct) =>
        {
            await using var command = dataSource.CreateCommand("SELECT id, order_number, user_id, amount_cents FROM orders WHERE id = $1");
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? Results.Ok(new OrderBody(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)))
                : Results.NotFound();
        }).RequireAuthorization();

        // The same handler without the middleware, for benchmarks/http-idempotency.sh (off unless Benchmark:MapBaseline=true).
        if (app.Configuration.GetValue<bool>("Benchmark:MapBaseline"))
        {
            app.MapPost("/payments/baseline", CreatePaymentAsync).RequireAuthorization();
        }
    }

    private static async Task<IResult> CreatePaymentAsync(PaymentInput input, HttpContext context, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        if (Invalid(input) is { } problem)
        {
            return problem;
        }

        if (input.ProcessingMs is > 0)
        {
            await Task.Delay(input.ProcessingMs.Value, ct);
        }

        // In the request's transaction; the benchmark's baseline (no middleware, no transaction) commits on its own.
        const string Insert = "INSERT INTO payments (user_id, amount_cents) VALUES ($1, $2) RETURNING id";
        var transaction = context.Features.Get<IIdempotencyTransactionFeature>();
        await using var command = transaction is null
            ? dataSource.CreateCommand(Insert)
            : new NpgsqlCommand(Insert, transaction.Connection, transaction.Transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = input.UserId!.Value });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = input.AmountCents!.Value });
        var id = (long)(await command.ExecuteScalarAsync(ct))!;
        return Results.Created($"/payments/{id}", new PaymentBody(id, input.UserId.Value, input.AmountCents.Value));
    }

    private static async Task<IResult> CreateOrderAsync(OrderInput input, HttpContext context, IIdempotentWriter writer, CancellationToken ct)
    {
        if (Invalid(input) is { } problem)
        {
            return problem;
        }

        // Runs in the request's transaction: the writer's overloads without a transaction join it (AmbientTransaction). An
        // order number taken by an earlier order is a 409 problem, stored under this key.
        var order = await writer.InsertAsync(
            new Order { OrderNumber = input.OrderNumber!, UserId = input.UserId!.Value, AmountCents = input.AmountCents!.Value },
            ct);

        // Your own commands go through the same transaction.
        var transaction = context.GetIdempotencyTransaction();
        await using (var outbox = new NpgsqlCommand(
            "INSERT INTO outbox (topic, payload) VALUES ('order-created', jsonb_build_object('orderId', $1::bigint))",
            transaction.Connection,
            transaction.Transaction))
        {
            outbox.Parameters.Add(new NpgsqlParameter<long> { TypedValue = order.Id });
            await outbox.ExecuteNonQueryAsync(ct);
        }

        // A slow step after the writes (a call to a warehouse), for the tests that cut a request off mid-handler.
        if (input.ProcessingMs is > 0)
        {
            await Task.Delay(input.ProcessingMs.Value, ct);
        }

        return Results.Created($"/orders/{order.Id}", new OrderBody(order.Id, order.OrderNumber, order.UserId, order.AmountCents));
    }

    private static IResult? Invalid(PaymentInput input)
    {
        var errors = new Dictionary<string, string[]>();
        CheckPayment(errors, input.UserId, input.AmountCents, input.ProcessingMs);
        return errors.Count == 0 ? null : Results.ValidationProblem(errors);
    }

    private static void CheckPayment(Dictionary<string, string[]> errors, long? userId, long? amountCents, int? processingMs)
    {
        if (userId is not > 0)
        {
            errors["userId"] = [userId is null ? "Required." : "Must be positive."];
        }

        if (amountCents is not > 0)
        {
            errors["amountCents"] = [amountCents is null ? "Required." : "Must be positive."];
        }

        if (processingMs is < 0 or > MaxProcessingMs)
        {
            errors["processingMs"] = [$"Must be between 0 and {MaxProcessingMs}."];
        }
    }

    private static IResult? Invalid(UserInput input)
    {
        var errors = new Dictionary<string, string[]>();
        CheckText(errors, "email", input.Email);
        CheckText(errors, "name", input.Name);
        return errors.Count == 0 ? null : Results.ValidationProblem(errors);
    }

    private static IResult? Invalid(OrderInput input)
    {
        var errors = new Dictionary<string, string[]>();
        CheckText(errors, "orderNumber", input.OrderNumber);
        CheckPayment(errors, input.UserId, input.AmountCents, input.ProcessingMs);
        return errors.Count == 0 ? null : Results.ValidationProblem(errors);
    }

    // Text the database must be able to store and index: PostgreSQL refuses a NUL character in text (22021), and a unique
    // index refuses an entry over about 2.7 kB (54000); either would otherwise be a 500 for what is the client's input.
    private static void CheckText(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors[field] = ["Required."];
        }
        else if (value.Length > MaxTextLength)
        {
            errors[field] = [$"At most {MaxTextLength} characters."];
        }
        else if (value.Any(char.IsControl))
        {
            errors[field] = ["Must not contain control characters."];
        }
    }
}
// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net;
using System.Security.Claims;
using System.Text.Json;
using IdempotentWrites;
using IdempotentWrites.AspNetCore;
using Npgsql;

namespace Snippets.HttpIdempotency;

// docs/http-idempotency.md

public sealed class Payment
{
    public long Id { get; set; }

    public string OrderNumber { get; set; } = "";

    public long AmountCents { get; set; }
}

public sealed record PaymentRequest(string OrderNumber, long AmountCents);

public static class HttpIdempotencyApp
{
    public static WebApplication Create(string[] args)
    {
        // <snippet:http-register>
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddAuthentication().AddBearerToken();   // any scheme: the caller's identity scopes the keys
        builder.Services.AddAuthorization();

        builder.Services.AddIdempotentWrites(o => o.ConnectionString = builder.Configuration.GetConnectionString("Postgres"))
            .MapTable<Payment>("payments", t => t.ConflictOn(p => p.OrderNumber).Generated(p => p.Id))
            .AddConflictProblemDetails(o => o.ConstraintMessages["users_email_key"] = "This email is already registered.")
            .AddHttpIdempotency(o =>
            {
                o.CreateStoreTable = true;             // or: iw idempotency migrate
                o.Lease = TimeSpan.FromSeconds(30);    // above your slowest handler
                o.AddPolicy("payments", p => p.Transactional = true);
            });

        var app = builder.Build();
        app.UseExceptionHandler();    // runs the conflict IExceptionHandler outside idempotent endpoints
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseIdempotency();         // after authentication: the scope is the caller

        app.MapPost("/payments", CreatePaymentAsync).RequireAuthorization().RequireIdempotencyKey("payments");
        // </snippet:http-register>
        return app;
    }

    // <snippet:http-transactional-handler>
    private static async Task<IResult> CreatePaymentAsync(PaymentRequest request, HttpContext context, IIdempotentWriter writer, CancellationToken ct)
    {
        // Transactional policy: the writer joins the request's transaction by itself (AmbientTransaction), so the row
        // and the stored response commit together, or neither does.
        var payment = new Payment { OrderNumber = request.OrderNumber, AmountCents = request.AmountCents };
        WriteResult<Payment> saved = await writer.InsertOrGetAsync(payment, ct);
        if (saved.Outcome == WriteOutcome.Existing)
        {
            // This order number was paid by an earlier request (under another key): nothing new to record.
            return Results.Ok(saved.Row);
        }

        // Your own commands use the same transaction. Do not commit or roll it back yourself.
        var transaction = context.GetIdempotencyTransaction();
        await using var audit = new NpgsqlCommand("INSERT INTO payment_audit (payment_id) VALUES ($1)", transaction.Connection, transaction.Transaction);
        audit.Parameters.Add(new NpgsqlParameter<long> { TypedValue = saved.Row.Id });
        await audit.ExecuteNonQueryAsync(ct);
        return Results.Created($"/payments/{saved.Row.Id}", saved.Row);
    }
    // </snippet:http-transactional-handler>

    public static void Mvc(WebApplication app)
    {
        // <snippet:http-opt-out>
        var api = app.MapGroup("/api").RequireIdempotencyKey();           // every unsafe request in the group needs a key
        api.MapPost("/refunds", () => Results.Accepted());
        api.MapPost("/search", () => Results.Ok()).DisableIdempotency();  // ... except this one
        // </snippet:http-opt-out>
    }
}

// <snippet:http-scope-resolver>
public sealed class TenantScopeResolver : IIdempotencyScopeResolver
{
    public ValueTask<string?> ResolveScopeAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var tenant = context.User.FindFirst("tenant_id")?.Value;
        var subject = context.User.FindFirst(ClaimTypes.NameIdentifier)?.Value;

        // null refuses the request (InvalidOperationException) rather than share a scope between callers.
        return ValueTask.FromResult(tenant is null || subject is null ? null : $"tenant:{tenant}:user:{subject}");
    }
}

// builder.Services.AddSingleton<IIdempotencyScopeResolver, TenantScopeResolver>();
// </snippet:http-scope-resolver>

public static class HttpIdempotencyClient
{
    // <snippet:http-client>
    public static async Task<HttpResponseMessage> PostOnceAsync(HttpClient http, string path, object body, CancellationToken ct)
    {
        var key = Guid.NewGuid().ToString("N");   // one key per operation, reused by every retry of it
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", $"\"{key}\"");
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, ct);
            }
            catch (HttpRequestException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt), ct);   // no answer: the same key makes the retry safe
                continue;
            }

            var code = await ProblemCodeAsync(response, ct);
            var retry = response.StatusCode switch
            {
                HttpStatusCode.Conflict when code == "in-progress" => true,           // the first attempt is still running
                HttpStatusCode.Conflict when code == "retryable-conflict" => true,    // deadlock / serialization failure
                HttpStatusCode.ServiceUnavailable => true,                            // store-unavailable, or your own 503
                HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests => true,
                >= HttpStatusCode.InternalServerError => true,                        // 5xx: the key was released
                _ => false,                                                            // 2xx, 3xx, other 4xx: final (replayed if repeated)
            };
            if (!retry || attempt >= 5)
            {
                return response;   // response.Headers.Contains("Idempotent-Replayed"): this is a stored answer
            }

            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(attempt);
            response.Dispose();
            await Task.Delay(wait, ct);
        }
    }

    private static async Task<string?> ProblemCodeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }

        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return problem.RootElement.TryGetProperty("code", out var code) ? code.GetString() : null;
    }
    // </snippet:http-client>
}

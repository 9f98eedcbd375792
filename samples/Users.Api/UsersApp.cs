// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace UsersApi;

// The whole app, built here so tests and benchmarks can host it in-process (on Kestrel, any port) with their own settings.
public static class UsersApp
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

        // One data source for the app's own queries, the writer and the idempotency key store. For a primary with standbys,
        // name them all: Host=pg1,pg2;Target Session Attributes=primary;Host Recheck Seconds=1 (docs/scaling.md, Failover).
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));

        // Registered first: creates the tables before the writer checks its mappings against the catalog.
        builder.Services.AddHostedService<SchemaSetup>();

        // X-Api-Key identifies the caller (any non-empty value): a stand-in for real authentication. The idempotency
        // scope is the authenticated principal, so two callers using the same Idempotency-Key never meet.
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();

        // A request the server could not read (malformed JSON in Development, where minimal APIs throw for it; a body over
        // Kestrel's limit; broken framing) is the client's fault: its own 4xx, never a 500.
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = static e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError);

        builder.Services.AddIdempotentWrites()
            .MapTable<User>("users", t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt))
            .MapTable<Order>("orders", t => t.ConflictOn(o => o.OrderNumber).Generated(o => o.Id, o => o.CreatedAt))
            .AddConflictProblemDetails(o =>
            {
                o.ConstraintMessages["users_email_key"] = "This email is already registered.";
                o.ConstraintMessages["orders_order_number_key"] = "An order with this number exists.";
            })
            .AddHttpIdempotency(o =>
            {
                o.CreateStoreTable = true;

                // POST /payments and POST /orders: the handler's writes and its stored response commit in one transaction,
                // or none does (what anything that moves money needs; see docs/http-idempotency.md).
                o.AddPolicy("payments", p => p.Transactional = true);
                o.AddPolicy("orders", p => p.Transactional = true);
                builder.Configuration.GetSection("Idempotency").Bind(o);
            });

        // GET /health: 200 when PostgreSQL answers, every mapping matches it and no sequence is behind its data; otherwise
        // 503 (or Degraded for drift) with the reason in the check's description.
        builder.Services.AddHealthChecks()
            .AddIdempotentWritesCheck()
            .AddSequenceDriftCheck(failureStatus: HealthStatus.Degraded);

        // Traces and metrics: to the console when Telemetry:Console is true (env Telemetry__Console=true), and over OTLP
        // when OTEL_EXPORTER_OTLP_ENDPOINT is set. Our spans are the parents of Npgsql's.
        var console = builder.Configuration.GetValue<bool>("Telemetry:Console");
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (console || otlp)
        {
            builder.Services.AddOpenTelemetry()
                .WithTracing(tracing =>
                {
                    // The request span is the root: without it, parent-based sampling would drop every span under a request.
                    tracing.AddAspNetCoreInstrumentation().AddIdempotentWritesInstrumentation().AddNpgsql();
                    if (console)
                    {
                        tracing.AddConsoleExporter();
                    }

                    if (otlp)
                    {
                        tracing.AddOtlpExporter();
                    }
                })
                .WithMetrics(metrics =>
                {
                    metrics.AddAspNetCoreInstrumentation().AddIdempotentWritesInstrumentation();
                    if (console)
                    {
                        metrics.AddConsoleExporter();
                    }

                    if (otlp)
                    {
                        metrics.AddOtlpExporter();
                    }
                });
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseIdempotency();
        UsersEndpoints.Map(app);
        app.MapHealthChecks("/health");
        return app;
    }
}

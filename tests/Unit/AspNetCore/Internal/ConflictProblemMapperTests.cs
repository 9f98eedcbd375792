// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.Json;
using IdempotentWrites.AspNetCore;
using IdempotentWrites.AspNetCore.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace IdempotentWrites.UnitTests.AspNetCore.Internal;

public sealed class ConflictProblemMapperTests
{
    private static readonly ConflictProblemDetailsOptions Defaults = new();

    [Theory]
    [InlineData("23505", "unique-violation", 409)]
    [InlineData("40001", "retryable-conflict", 409)]
    [InlineData("40P01", "retryable-conflict", 409)]
    [InlineData("55P03", "retryable-conflict", 409)]
    [InlineData("23503", "foreign-key-violation", 409)]
    [InlineData("23P01", "exclusion-violation", 409)]
    [InlineData("23502", "not-null-violation", 422)]
    [InlineData("23514", "check-violation", 422)]
    [InlineData("21000", "cardinality-violation", 422)]
    public void Classify_RawPostgresException_WrappedLikeEfCore(string sqlState, string code, int status)
    {
        var raw = PostgresErrors.Create(sqlState, constraintName: "users_email_key", columnName: "email");

        var problem = ConflictProblemMapper.Classify(new InvalidOperationException("DbUpdateException", raw), Defaults);

        Assert.NotNull(problem);
        Assert.Equal(code, problem.Code);
        Assert.Equal(status, problem.StatusCode);
        Assert.Equal(sqlState, problem.ErrorType);
    }

    [Theory]
    [InlineData("42P01")]
    [InlineData("57014")]
    [InlineData("428C9")]
    public void Classify_OtherErrors_NotMapped(string sqlState)
        => Assert.Null(ConflictProblemMapper.Classify(PostgresErrors.Create(sqlState), Defaults));

    [Fact]
    public void Classify_DatabaseUnavailable_503DatabaseUnavailable()
    {
        var problem = ConflictProblemMapper.Classify(new DatabaseUnavailableException("Cannot connect to PostgreSQL at db:5432", null), Defaults)!;

        Assert.Equal(("database-unavailable", 503), (problem.Code, problem.StatusCode));
        Assert.Empty(problem.Fields);
    }

    [Fact]
    public void Classify_TypedErrors()
    {
        var unique = ConflictProblemMapper.Classify(new AggregateException(new UniqueViolationException("public", "users", "users_lower_email", ["tenant_id", "email"], ["lower(email)"], false, null, null)), Defaults)!;
        var notNull = ConflictProblemMapper.Classify(new NotNullViolationException("public", "users", "name", null), Defaults)!;
        var fk = ConflictProblemMapper.Classify(new ForeignKeyViolationException("public", "orders", "orders_user_id_fkey", null), Defaults)!;

        Assert.Equal(("unique-violation", "users_lower_email", "users"), (unique.Code, unique.ConstraintName, unique.TableName));
        // Fields are columns a client can change: those the expression reads, never the expression text.
        Assert.Equal(["tenant_id", "email"], unique.Fields);
        Assert.Equal(("not-null-violation", 422), (notNull.Code, notNull.StatusCode));
        Assert.Equal(["name"], notNull.Fields);
        Assert.Equal(("foreign-key-violation", "orders_user_id_fkey"), (fk.Code, fk.ConstraintName));
        Assert.Null(ConflictProblemMapper.Classify(new InvalidOperationException("x"), Defaults));
    }

    [Fact]
    public void Classify_StatusOverride()
    {
        var options = new ConflictProblemDetailsOptions();
        options.StatusCodes["check-violation"] = 400;

        Assert.Equal(400, ConflictProblemMapper.Classify(PostgresErrors.Create("23514"), options)!.StatusCode);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, "a@example.com")]
    public async Task Write_UniqueViolation_ProblemShape_ValuesOnlyWhenAllowed(bool includeValues, string? value)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIdempotentWrites(o => o.ConnectionString = "Host=127.0.0.1;Port=1").AddConflictProblemDetails(o =>
        {
            o.IncludeValues = includeValues;
            o.ConstraintMessages["users_email_key"] = "This email is already registered.";
            o.ProblemTypeBaseUri = new Uri("https://example.com/problems/");
        });
        using var provider = services.BuildServiceProvider();
        var mapper = provider.GetRequiredService<ConflictProblemMapper>();
        var context = new DefaultHttpContext { RequestServices = provider, TraceIdentifier = "trace-1" };
        context.Response.Body = new MemoryStream();
        var error = new UniqueViolationException("public", "users", "users_email_key", ["email"], [], false, new Dictionary<string, object?> { ["email"] = "a@example.com" }, null);

        var problem = await mapper.TryMapAsync(error, null, CancellationToken.None);
        await mapper.WriteAsync(context, problem!, error);

        Assert.Equal(409, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        var json = JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray()).RootElement;
        Assert.Equal("https://example.com/problems/unique-violation", json.GetProperty("type").GetString());
        Assert.Equal("This email is already registered.", json.GetProperty("detail").GetString());
        Assert.Equal("unique-violation", json.GetProperty("code").GetString());
        Assert.Equal("users_email_key", json.GetProperty("constraint").GetString());
        Assert.Equal("users", json.GetProperty("table").GetString());
        Assert.Equal("email", json.GetProperty("fields")[0].GetString());
        Assert.Equal("trace-1", json.GetProperty("traceId").GetString());
        Assert.Equal(value, json.TryGetProperty("values", out var values) ? values.GetProperty("email").GetString() : null);
    }
}

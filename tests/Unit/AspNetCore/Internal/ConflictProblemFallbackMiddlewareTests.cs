// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.Json;
using IdempotentWrites.AspNetCore.Internal;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace IdempotentWrites.UnitTests.AspNetCore.Internal;

public sealed class ConflictProblemFallbackMiddlewareTests : IDisposable
{
    private readonly ServiceProvider _services;

    public ConflictProblemFallbackMiddlewareTests()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIdempotentWrites(o => o.ConnectionString = "Host=127.0.0.1;Port=1").AddConflictProblemDetails();
        _services = services.BuildServiceProvider();
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public void AddConflictProblemDetails_RegistersStartupFilterAndDeveloperPageFilter()
    {
        Assert.Contains(_services.GetServices<IStartupFilter>(), f => f is ConflictProblemStartupFilter);
        Assert.Contains(_services.GetServices<IDeveloperPageExceptionFilter>(), f => f is ConflictDeveloperPageExceptionFilter);
    }

    [Fact]
    public async Task InvokeAsync_UniqueViolationUnhandled_409Problem()
    {
        var middleware = new ConflictProblemFallbackMiddleware(_ => throw UniqueViolation(), _services.GetRequiredService<ConflictProblemMapper>());
        var context = NewContext();

        await middleware.InvokeAsync(context);

        Assert.Equal(409, context.Response.StatusCode);
        Assert.Equal("unique-violation", Problem(context).GetProperty("code").GetString());
    }

    [Fact]
    public async Task InvokeAsync_OtherException_Rethrown()
    {
        var middleware = new ConflictProblemFallbackMiddleware(_ => throw new InvalidOperationException("boom"), _services.GetRequiredService<ConflictProblemMapper>());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => middleware.InvokeAsync(NewContext()));

        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public async Task DeveloperPageFilter_UniqueViolation_409Problem_OtherException_Next()
    {
        var filter = new ConflictDeveloperPageExceptionFilter(_services.GetRequiredService<ConflictProblemMapper>());
        var conflict = NewContext();
        var other = NewContext();
        var nextCalls = 0;

        await filter.HandleExceptionAsync(new ErrorContext(conflict, UniqueViolation()), _ => Task.FromResult(++nextCalls));
        await filter.HandleExceptionAsync(new ErrorContext(other, new InvalidOperationException("boom")), _ => Task.FromResult(++nextCalls));

        Assert.Equal(409, conflict.Response.StatusCode);
        Assert.Equal("unique-violation", Problem(conflict).GetProperty("code").GetString());
        Assert.Equal(1, nextCalls);
    }

    private static UniqueViolationException UniqueViolation()
        => new("public", "users", "users_email_key", ["email"], [], false, new Dictionary<string, object?> { ["email"] = "a@example.com" }, null);

    private DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static JsonElement Problem(HttpContext context) => JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray()).RootElement;
}

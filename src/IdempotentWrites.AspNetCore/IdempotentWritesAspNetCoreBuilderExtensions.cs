// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using IdempotentWrites.AspNetCore;
using IdempotentWrites.AspNetCore.Internal;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the ASP.NET Core features of IdempotentWrites on the builder returned by <c>services.AddIdempotentWrites(...)</c>.
/// </summary>
public static class IdempotentWritesAspNetCoreBuilderExtensions
{
    /// <summary>
    /// Adds <c>Idempotency-Key</c> support with the default options: the middleware's services (add the middleware with
    /// <c>app.UseIdempotency()</c>), the PostgreSQL key store on the writer's database, the purge of expired keys, and
    /// OpenAPI metadata for endpoints that require a key.
    /// </summary>
    /// <param name="builder">The IdempotentWrites builder.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IdempotentWritesBuilder AddHttpIdempotency(this IdempotentWritesBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddHttpIdempotencyCore(builder.Services);
        return builder;
    }

    /// <summary>
    /// Adds <c>Idempotency-Key</c> support with options, validated when the host starts. See
    /// <see cref="AddHttpIdempotency(IdempotentWritesBuilder)"/>.
    /// </summary>
    /// <param name="builder">The IdempotentWrites builder.</param>
    /// <param name="configure">Configures <see cref="HttpIdempotencyOptions"/> and named policies.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> or <paramref name="configure"/>
    /// is <see langword="null"/>.</exception>
    public static IdempotentWritesBuilder AddHttpIdempotency(this IdempotentWritesBuilder builder, Action<HttpIdempotencyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        AddHttpIdempotencyCore(builder.Services);
        return builder;
    }

    /// <summary>
    /// Answers integrity errors (<see cref="UniqueViolationException"/> and the other typed errors, or a raw
    /// <c>PostgresException</c>, also wrapped as by EF Core's <c>DbUpdateException</c>) with <c>application/problem+json</c>:
    /// 409 <c>unique-violation</c>, 409 <c>retryable-conflict</c>, and the other codes of <see cref="IdempotentWritesProblemCodes"/>.
    /// <para/>
    /// Works without other setup: a middleware around the whole pipeline answers the errors no exception handler answered,
    /// and in Development the developer exception page answers them the same way. With <c>app.UseExceptionHandler()</c>,
    /// the registered <see cref="IExceptionHandler"/> answers them there; inside <c>app.UseIdempotency()</c> the same
    /// answers are stored for replay.
    /// </summary>
    /// <param name="builder">The IdempotentWrites builder.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IdempotentWritesBuilder AddConflictProblemDetails(this IdempotentWritesBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddConflictProblemDetailsCore(builder.Services);
        return builder;
    }

    /// <summary>
    /// Answers integrity errors with <c>application/problem+json</c>, with options (per-constraint messages, statuses,
    /// whether values are included). See <see cref="AddConflictProblemDetails(IdempotentWritesBuilder)"/>.
    /// </summary>
    /// <param name="builder">The IdempotentWrites builder.</param>
    /// <param name="configure">Configures <see cref="ConflictProblemDetailsOptions"/>.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> or <paramref name="configure"/>
    /// is <see langword="null"/>.</exception>
    public static IdempotentWritesBuilder AddConflictProblemDetails(
        this IdempotentWritesBuilder builder,
        Action<ConflictProblemDetailsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        AddConflictProblemDetailsCore(builder.Services);
        return builder;
    }

    private static void AddHttpIdempotencyCore(IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<HttpIdempotencyOptions, HttpIdempotencyOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpIdempotencyOptions>, HttpIdempotencyOptionsCustomValidator>());
        AddShared(services);
        services.TryAddSingleton<IdempotencyPolicies>();
        services.TryAddSingleton<IIdempotencyStore>(static sp => new PostgresIdempotencyStore(
            sp.GetRequiredService<IdempotentWritesDataSource>(),
            sp.GetRequiredService<IOptions<HttpIdempotencyOptions>>(),
            sp.GetRequiredService<IOptions<IdempotentWritesOptions>>()));
        services.TryAddSingleton<IIdempotencyScopeResolver, DefaultIdempotencyScopeResolver>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, IdempotencyStoreInitializer>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, IdempotencyPurgeService>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IApiDescriptionProvider, IdempotencyApiDescriptionProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, IdempotencyPolicyStartupFilter>());
    }

    private static void AddConflictProblemDetailsCore(IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<ConflictProblemDetailsOptions>();
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<ConflictProblemDetailsOptions>, ConflictProblemDetailsOptionsValidator>());
        AddShared(services);
        services.TryAddSingleton<ConstraintCatalog>();
        services.TryAddSingleton<ConflictProblemMapper>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExceptionHandler, ConflictExceptionHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDeveloperPageExceptionFilter, ConflictDeveloperPageExceptionFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, ConflictProblemStartupFilter>());
    }

    private static void AddShared(IServiceCollection services)
    {
        services.AddMetrics();
        services.AddProblemDetails();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IdempotentWritesHttpMetrics>();
        services.TryAddSingleton(static sp => new ProblemWriter(sp.GetService<IProblemDetailsService>()));
    }
}

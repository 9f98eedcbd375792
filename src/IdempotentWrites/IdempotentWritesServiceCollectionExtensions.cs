// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers IdempotentWrites in an <see cref="IServiceCollection"/>.
/// </summary>
public static class IdempotentWritesServiceCollectionExtensions
{
    /// <summary>
    /// Adds the IdempotentWrites writer (<see cref="IIdempotentWriter"/>), using the <c>NpgsqlDataSource</c> registered in DI.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to map tables with.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="services"/> is <see langword="null"/>.</exception>
    public static IdempotentWritesBuilder AddIdempotentWrites(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return AddIdempotentWritesCore(services);
    }

    /// <summary>
    /// Adds the IdempotentWrites writer (<see cref="IIdempotentWriter"/>) with options, validated when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures <see cref="IdempotentWritesOptions"/>.</param>
    /// <returns>A builder to map tables with.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="services"/> or <paramref name="configure"/>
    /// is <see langword="null"/>.</exception>
    public static IdempotentWritesBuilder AddIdempotentWrites(this IServiceCollection services, Action<IdempotentWritesOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        return AddIdempotentWritesCore(services);
    }

    private static IdempotentWritesBuilder AddIdempotentWritesCore(IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<IdempotentWritesOptions, IdempotentWritesOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdempotentWritesOptions>, IdempotentWritesOptionsCustomValidator>());
        services.AddMetrics();
        services.TryAddSingleton(static sp => new IdempotentWritesDataSource(sp, sp.GetRequiredService<IOptions<IdempotentWritesOptions>>()));
        services.TryAddSingleton(static sp => new WriterTelemetry(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddKeyedSingleton<ResiliencePipeline>(
            IdempotentWritesResilience.PipelineKey,
            static (sp, _) => WriterPipeline.Create(
                sp.GetRequiredService<IOptions<IdempotentWritesOptions>>().Value,
                sp.GetRequiredService<IdempotentWritesDataSource>().DataSource,
                sp.GetRequiredService<WriterTelemetry>(),
                (ILogger?)sp.GetService<ILogger<IdempotentWriter>>() ?? NullLogger.Instance));
        services.TryAddSingleton<IdempotentWriter>();
        services.TryAddSingleton<IIdempotentWriter>(static sp => sp.GetRequiredService<IdempotentWriter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MappingValidationService>());
        return new IdempotentWritesBuilder(services);
    }
}

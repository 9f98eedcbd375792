// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites;
using IdempotentWrites.Internal.Sequences;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the sequence drift health check in an <see cref="IHealthChecksBuilder"/>.
/// </summary>
public static class SequenceDriftHealthChecksBuilderExtensions
{
    /// <summary>
    /// The default name of the sequence drift health check.
    /// </summary>
    public const string DefaultName = "sequence-drift";

    /// <summary>
    /// Adds a health check that runs <see cref="SequenceDoctor.CheckAsync(CancellationToken)"/> on the writer's data source
    /// (<c>AddIdempotentWrites</c>), else the <c>NpgsqlDataSource</c> registered in DI, and reports
    /// <see cref="HealthStatus.Degraded"/> while any sequence is behind its data (naming each one)
    /// or nearly exhausted. It changes nothing.
    /// <para/>
    /// A check reads one <c>MAX</c> per sequence-fed column (an index lookup for key columns); on databases with thousands of
    /// tables, run it on a dedicated endpoint or with a longer probe interval.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The health check's name.</param>
    /// <param name="failureStatus">The status reported when the check cannot run (no data source, connection failure, any error: the
    /// check never throws); <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter health checks by, or <see langword="null"/>.</param>
    /// <param name="timeout">The check's timeout, or <see langword="null"/> for none.</param>
    /// <param name="configure">Configures the <see cref="SequenceDoctorOptions"/> (for example the schemas), or <see langword="null"/>.</param>
    /// <param name="dataSourceServiceKey">The service key of a keyed <c>NpgsqlDataSource</c>, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is blank or the configured options are invalid.</exception>
    public static IHealthChecksBuilder AddSequenceDriftCheck(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null,
        Action<SequenceDoctorOptions>? configure = null,
        object? dataSourceServiceKey = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new SequenceDoctorOptions();
        configure?.Invoke(options);
        SequenceDoctorOptionsCustomValidator.ThrowIfInvalid(options, nameof(configure));
        return builder.Add(new HealthCheckRegistration(
            name,
            sp =>
            {
                // The writer's own data source (AddIdempotentWrites with a connection string registers no NpgsqlDataSource),
                // else the app's. A check that cannot be built reports why instead of failing the whole /health request.
                NpgsqlDataSource? dataSource;
                try
                {
                    dataSource = dataSourceServiceKey is null
                        ? sp.GetService<IdempotentWritesDataSource>()?.DataSource ?? sp.GetService<NpgsqlDataSource>()
                        : sp.GetKeyedService<NpgsqlDataSource>(dataSourceServiceKey);
                }
                catch (Exception ex) when (ex is InvalidOperationException
                    or ArgumentException
                    or Microsoft.Extensions.Options.OptionsValidationException)
                {
                    return new FailedHealthCheck($"The sequence drift check has no database: {ex.Message}");
                }

                if (dataSource is null)
                {
                    return new FailedHealthCheck(dataSourceServiceKey is null
                        ? "The sequence drift check has no database: register AddIdempotentWrites(o => " +
                            "o.ConnectionString = ...) or an NpgsqlDataSource (AddNpgsqlDataSource)."
                        : $"The sequence drift check has no database: no NpgsqlDataSource is registered with the key '{dataSourceServiceKey}'.");
                }

                var logger = sp.GetService<ILoggerFactory>()?.CreateLogger<SequenceDoctor>() ?? (ILogger)NullLogger.Instance;
                return new SequenceDriftHealthCheck(new SequenceDoctor(dataSource, options, logger));
            },
            failureStatus,
            tags,
            timeout));
    }
}

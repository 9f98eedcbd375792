// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Runtime.CompilerServices;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;

namespace IdempotentWrites.Internal.Writing;

// Builds the default pipeline once, at registration: an overall timeout around jittered exponential retries.
internal static class WriterPipeline
{
    private static readonly ConditionalWeakTable<ResiliencePipeline, IdempotentWritesOptions> Defaults = new();

    public static ResiliencePipeline Create(IdempotentWritesOptions options, NpgsqlDataSource dataSource, WriterTelemetry telemetry, ILogger logger)
    {
        var retry = options.Retry;
        var userOnRetry = retry.OnRetry;
        var strategy = new RetryStrategyOptions
        {
            Name = retry.Name,
            ShouldHandle = retry.ShouldHandle,
            BackoffType = retry.BackoffType,
            UseJitter = retry.UseJitter,
            MaxRetryAttempts = retry.MaxRetryAttempts,
            Delay = retry.Delay,
            MaxDelay = retry.MaxDelay,
            DelayGenerator = retry.DelayGenerator,
            OnRetry = async args =>
            {
                var operation = args.Context.OperationKey ?? "unknown";
                var exception = args.Outcome.Exception;
                logger.RetryingAfterTransientFault(
                    operation,
                    args.AttemptNumber + 1,
                    args.RetryDelay,
                    exception is null ? "unknown" : WriterTelemetry.ErrorType(exception),
                    Reason(exception));
                telemetry.Retried(operation, exception);
                if (args.AttemptNumber >= 1 && IsConnectionLoss(exception))
                {
                    // Lost the connection twice in a row: after a server restart every idle pooled connection is dead, so drop
                    // them and let the next attempt open a live one. Not on the first loss: a single killed backend (same
                    // SQLSTATE 57P01) would otherwise make every caller reconnect at once.
                    dataSource.Clear();
                }

                if (userOnRetry is not null)
                {
                    await userOnRetry(args).ConfigureAwait(args.Context.ContinueOnCapturedContext);
                }
            },
        };

        var pipeline = new ResiliencePipelineBuilder { Name = IdempotentWritesResilience.PipelineKey }
            .AddTimeout(options.Timeout)
            .AddRetry(strategy)
            .Build();
        Defaults.AddOrUpdate(pipeline, options);
        return pipeline;
    }

    // True for a pipeline this class built (an overall timeout around the retries): the writer may then make a call's first
    // attempt outside it, under the same timeout, and hand only a failed attempt to it.
    public static bool IsDefault(ResiliencePipeline pipeline) => Defaults.TryGetValue(pipeline, out _);

    private static bool IsConnectionLoss(Exception? exception) => exception switch
    {
        PostgresException postgres => SqlStates.Classify(postgres.SqlState) == SqlStateKind.ConnectionLost,
        NpgsqlException => true,
        _ => false,
    };

    // The server's message text (never DETAIL, which can hold row values) or the client-side message (connection refused,
    // timeout): enough to tell a restart from a deadlock from a full pool.
    private static string Reason(Exception? exception) => exception switch
    {
        null => "no exception",
        PostgresException pg => $"{pg.SqlState} {pg.MessageText}",
        IdempotentWritesException { InnerException: PostgresException pg } => $"{pg.SqlState} {pg.MessageText}",
        _ => exception.InnerException is { } inner ? $"{exception.Message} ({inner.Message})" : exception.Message,
    };
}

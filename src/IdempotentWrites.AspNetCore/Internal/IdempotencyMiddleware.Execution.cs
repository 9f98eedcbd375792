// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Npgsql;

namespace IdempotentWrites.AspNetCore.Internal;

// The claimer's side: run the handler, then store its response or release the key.
internal sealed partial class IdempotencyMiddleware
{
    // Tees the response to the client while capturing it. Stored: 2xx/3xx/4xx but 408, 425, 429; an integrity error the
    // handler threw is answered with its problem details and stored too (except retryable conflicts). Released: the rest.
    private async Task ExecuteAsync(HttpContext context, Execution execution)
    {
        var originalBody = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var capture = new ResponseCaptureStream(originalBody.Stream, execution.Policy.MaxResponseBodySize);
        var failure = await RunHandlerAsync(context, originalBody, capture, null).ConfigureAwait(false);
        var afterHandler = Stopwatch.GetTimestamp();
        if (failure is not null)
        {
            await HandleFailureAsync(context, execution, originalBody, failure, afterHandler).ConfigureAwait(false);
            return;
        }

        await StoreOrReleaseAsync(context, execution, capture, afterHandler).ConfigureAwait(false);
    }

    // The handler runs in a transaction on the store's database; its response is buffered (spilling to disk) and sent only
    // after the transaction that also stores it committed. Not stored (exception, 5xx, ...) means rolled back.
    private async Task ExecuteTransactionalAsync(HttpContext context, Execution execution)
    {
        var store = _transactionalStore!;
        NpgsqlConnection connection;
        NpgsqlTransaction transaction;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(_options.StoreTimeout);
            transaction = await store.BeginTransactionAsync(timeout.Token).ConfigureAwait(false);
            connection = transaction.Connection
                ?? throw new InvalidOperationException($"{store.GetType().FullName}.BeginTransactionAsync returned a completed transaction.");
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            _logger.StoreUnavailable(context.Request.Method, context.Request.Path, ex);
            await TryReleaseAsync(context, execution, "store unavailable").ConfigureAwait(false);
            Finish(execution.Activity, "store_unavailable", execution.PreHandler, ex);
            await WriteStoreUnavailableAsync(context).ConfigureAwait(false);
            return;
        }

        await using (connection.ConfigureAwait(false))
        await using (transaction.ConfigureAwait(false))
        {
            var originalBody = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
            var buffer = new FileBufferingWriteStream();
            await using (buffer.ConfigureAwait(false))
            {
                var capture = new ResponseCaptureStream(buffer, execution.Policy.MaxResponseBodySize);
                var failure = await RunHandlerAsync(
                    context,
                    originalBody,
                    capture,
                    new IdempotencyTransactionFeature(connection, transaction)).ConfigureAwait(false);
                var afterHandler = Stopwatch.GetTimestamp();
                if (failure is not null)
                {
                    await TryRollbackAsync(transaction).ConfigureAwait(false);
                    await HandleFailureAsync(context, execution, originalBody, failure, afterHandler).ConfigureAwait(false);
                    return;
                }

                if (!IsStored(context.Response.StatusCode))
                {
                    await TryRollbackAsync(transaction).ConfigureAwait(false);
                    await TryReleaseAsync(context, execution, $"status {context.Response.StatusCode}").ConfigureAwait(false);
                    Finish(execution.Activity, "released", execution.Overhead(afterHandler));
                    await buffer.DrainBufferAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                    return;
                }

                var response = CaptureResponse(context, capture, execution.Policy);
                bool stored;
                try
                {
                    using var timeout = new CancellationTokenSource(_options.StoreTimeout);
                    stored = await store.CompleteAsync(
                        transaction,
                        execution.Scope,
                        execution.Key,
                        execution.FencingToken,
                        response,
                        execution.Policy.Retention,
                        timeout.Token).ConfigureAwait(false);
                    if (stored)
                    {
                        await transaction.CommitAsync(timeout.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex)
                {
                    // Whether an interrupted commit happened is unknown; releasing is safe either way, as a completed key
                    // is never released.
                    _logger.StoreWriteFailed("commit", context.Request.Method, context.Request.Path, ex);
                    await TryRollbackAsync(transaction).ConfigureAwait(false);
                    await TryReleaseAsync(context, execution, "commit failed").ConfigureAwait(false);
                    Finish(execution.Activity, "exception", execution.Overhead(afterHandler), ex);
                    throw;
                }

                if (!stored)
                {
                    // Taken over after the lease: the handler's writes are rolled back, and the caller gets what a retry
                    // would get (the new owner's response, or 409 while it runs).
                    await TryRollbackAsync(transaction).ConfigureAwait(false);
                    _logger.ClaimLost(context.Request.Method, context.Request.Path, context.Response.StatusCode);
                    Finish(execution.Activity, "claim_lost", execution.Overhead(afterHandler));
                    context.Response.Clear();
                    await AnswerAsRetryAsync(context, execution).ConfigureAwait(false);
                    return;
                }

                Finish(execution.Activity, "stored", execution.Overhead(afterHandler));
                await buffer.DrainBufferAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            }
        }
    }

    private async Task<Exception?> RunHandlerAsync(
        HttpContext context,
        IHttpResponseBodyFeature originalBody,
        ResponseCaptureStream capture,
        IIdempotencyTransactionFeature? transaction)
    {
        var captureBody = new StreamResponseBodyFeature(capture, originalBody);
        context.Features.Set<IHttpResponseBodyFeature>(captureBody);
        context.Features.Set(transaction);
        try
        {
            await _next(context).ConfigureAwait(false);

            // Flushes what the handler left in the body's PipeWriter into the capture.
            await captureBody.CompleteAsync().ConfigureAwait(false);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
        finally
        {
            context.Features.Set(originalBody);
            context.Features.Set<IIdempotencyTransactionFeature>(null);
        }
    }

    private async Task HandleFailureAsync(
        HttpContext context,
        Execution execution,
        IHttpResponseBodyFeature originalBody,
        Exception failure,
        long afterHandler)
    {
        // Thrown by the handler's own request reading (minimal APIs throw it for malformed JSON when ThrowOnBadRequest is on,
        // as in Development): the client's fault, answered with its status and never stored, so the key is released.
        if (failure is BadHttpRequestException badRequest && !context.Response.HasStarted)
        {
            await TryReleaseAsync(context, execution, $"bad request {badRequest.StatusCode}").ConfigureAwait(false);
            Finish(execution.Activity, "bad_request", execution.Overhead(afterHandler));
            context.Response.Clear();
            await WriteBadRequestAsync(context, badRequest).ConfigureAwait(false);
            return;
        }

        ConflictProblem? conflict = null;
        if (_conflicts is not null && !context.Response.HasStarted)
        {
            try
            {
                conflict = await _conflicts.TryMapAsync(failure, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                conflict = null;
            }
        }

        if (conflict is null)
        {
            await TryReleaseAsync(context, execution, "exception").ConfigureAwait(false);
            Finish(execution.Activity, "exception", execution.Overhead(afterHandler), failure);
            ExceptionDispatchInfo.Throw(failure);
        }

        // What the handler set before it threw is discarded; the problem is teed and stored like any response.
        context.Response.Clear();
        var capture = new ResponseCaptureStream(originalBody.Stream, execution.Policy.MaxResponseBodySize);
        var captureBody = new StreamResponseBodyFeature(capture, originalBody);
        context.Features.Set<IHttpResponseBodyFeature>(captureBody);
        try
        {
            await _conflicts!.WriteAsync(context, conflict, failure).ConfigureAwait(false);
            await captureBody.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            context.Features.Set(originalBody);
        }

        if (conflict.IsRetryable)
        {
            await TryReleaseAsync(context, execution, "retryable conflict").ConfigureAwait(false);
            Finish(execution.Activity, "released", execution.Overhead(afterHandler));
            return;
        }

        await StoreOrReleaseAsync(context, execution, capture, afterHandler).ConfigureAwait(false);
    }

    private async Task StoreOrReleaseAsync(HttpContext context, Execution execution, ResponseCaptureStream capture, long afterHandler)
    {
        if (!IsStored(context.Response.StatusCode))
        {
            await TryReleaseAsync(context, execution, $"status {context.Response.StatusCode}").ConfigureAwait(false);
            Finish(execution.Activity, "released", execution.Overhead(afterHandler));
            return;
        }

        var response = CaptureResponse(context, capture, execution.Policy);
        try
        {
            using var timeout = new CancellationTokenSource(_options.StoreTimeout);
            if (await _store.CompleteAsync(
                execution.Scope,
                execution.Key,
                execution.FencingToken,
                response,
                execution.Policy.Retention,
                timeout.Token).ConfigureAwait(false))
            {
                Finish(execution.Activity, "stored", execution.Overhead(afterHandler));
            }
            else
            {
                _logger.ClaimLost(context.Request.Method, context.Request.Path, response.StatusCode);
                Finish(execution.Activity, "claim_lost", execution.Overhead(afterHandler));
            }
        }
        catch (Exception ex)
        {
            // The client has its response; the key stays in progress until its lease ends, then a retry runs again.
            _logger.StoreWriteFailed("store the response of", context.Request.Method, context.Request.Path, ex);
            Finish(execution.Activity, "store_failed", execution.Overhead(afterHandler), ex);
        }
    }

    private async Task AnswerAsRetryAsync(HttpContext context, Execution execution)
    {
        IdempotencyRecord? current;
        try
        {
            using var timeout = new CancellationTokenSource(_options.StoreTimeout);
            current = await _transactionalStore!.GetAsync(execution.Scope, execution.Key, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.StoreUnavailable(context.Request.Method, context.Request.Path, ex);
            await WriteStoreUnavailableAsync(context).ConfigureAwait(false);
            return;
        }

        if (current?.Response is { } stored && current.Fingerprint.Span.SequenceEqual(execution.Fingerprint))
        {
            await ReplayAsync(context, stored).ConfigureAwait(false);
            return;
        }

        context.Response.Headers.RetryAfter = ProblemWriter.RetryAfterSeconds(current?.LeaseRemaining ?? execution.Policy.Lease);
        await WriteProblemAsync(
            context,
            StatusCodes.Status409Conflict,
            IdempotentWritesProblemCodes.InProgress,
            "A request with this Idempotency-Key is still being processed.",
            "Retry after the time in the Retry-After header to get its response.").ConfigureAwait(false);
    }

    private ValueTask WriteStoreUnavailableAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = ProblemWriter.RetryAfterSeconds(_options.StoreUnavailableRetryAfter);
        return WriteProblemAsync(
            context,
            StatusCodes.Status503ServiceUnavailable,
            IdempotentWritesProblemCodes.StoreUnavailable,
            "The idempotency key store is unavailable.",
            "The request was not processed. Retry it with the same Idempotency-Key.");
    }

    private ValueTask<bool> TryReleaseAsync(HttpContext context, Execution execution, string reason)
        => TryReleaseAsync(context, execution.Scope, execution.Key, execution.FencingToken, reason);

    private static async ValueTask TryRollbackAsync(NpgsqlTransaction transaction)
    {
        try
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // A broken connection rolls the transaction back by itself.
        }
    }

    private sealed record Execution(
        string Scope,
        string Key,
        long FencingToken,
        byte[] Fingerprint,
        EffectivePolicy Policy,
        Activity? Activity,
        TimeSpan PreHandler)
    {
        public TimeSpan Overhead(long afterHandler) => PreHandler + Stopwatch.GetElapsedTime(afterHandler);
    }
}

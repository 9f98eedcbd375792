// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Data;
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
    private static readonly TimeSpan FirstStoreRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxStoreRetryDelay = TimeSpan.FromSeconds(1);

    // Retries stop this long before the lease ends, so a retry of the request never meets a key still held by this one.
    private static readonly TimeSpan StoreRetryMargin = TimeSpan.FromSeconds(1);

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
                    await RollBackAndLendAsync(execution, transaction, connection).ConfigureAwait(false);
                    await HandleFailureAsync(context, execution, originalBody, failure, afterHandler).ConfigureAwait(false);
                    return;
                }

                if (!IsStored(context.Response.StatusCode))
                {
                    await RollBackAndLendAsync(execution, transaction, connection).ConfigureAwait(false);
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
                    stored = await StoreAndCommitAsync(transaction, execution, response, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // Whether an interrupted commit happened is unknown; releasing is safe either way, as a completed key
                    // is never released.
                    _logger.StoreWriteFailed("commit", context.Request.Method, context.Request.Path, ex);
                    await RollBackAndLendAsync(execution, transaction, connection).ConfigureAwait(false);
                    await TryReleaseAsync(context, execution, "commit failed").ConfigureAwait(false);
                    Finish(execution.Activity, "exception", execution.Overhead(afterHandler), ex);
                    throw;
                }

                if (!stored)
                {
                    // Taken over after the lease: the handler's writes are rolled back, and the caller gets what a retry
                    // would get (the new owner's response, or 409 while it runs).
                    await RollBackAndLendAsync(execution, transaction, connection).ConfigureAwait(false);
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

        // The writer's overloads without a transaction join this one (AmbientTransaction), so a write the handler makes
        // without passing it still commits with the stored response, or not at all.
        var ambient = transaction is null ? null : AmbientTransaction.Enter(transaction.Transaction);
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
            ambient?.Dispose();
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
                conflict = await _conflicts.TryMapAsync(failure, Lent(execution), context.RequestAborted).ConfigureAwait(false);
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
            if (await OnLentOrPooledAsync(
                execution,
                (connection, token) => CompleteOnAsync(connection, execution, response, token),
                token => _store.CompleteAsync(execution.Scope, execution.Key, execution.FencingToken, response, execution.Policy.Retention, token))
                .ConfigureAwait(false))
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
            var store = _transactionalStore!;
            current = await OnLentOrPooledAsync(
                execution,
                (connection, token) => store.GetAsync(connection, execution.Scope, execution.Key, token),
                async token =>
                {
                    // Only reached when the request's own connection broke: a fresh one from the store.
                    var transaction = await store.BeginTransactionAsync(token).ConfigureAwait(false);
                    var connection = transaction.Connection!;
                    await using (connection.ConfigureAwait(false))
                    await using (transaction.ConfigureAwait(false))
                    {
                        return await store.GetAsync(connection, execution.Scope, execution.Key, token).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
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

    private async ValueTask<bool> TryReleaseAsync(HttpContext context, Execution execution, string reason)
    {
        try
        {
            var store = _transactionalStore;
            await OnLentOrPooledAsync(
                execution,
                store is null
                    ? null
                    : (connection, token) => store.ReleaseAsync(connection, execution.Scope, execution.Key, execution.FencingToken, token),
                token => _store.ReleaseAsync(execution.Scope, execution.Key, execution.FencingToken, token)).ConfigureAwait(false);
            _logger.KeyReleased(context.Request.Method, context.Request.Path, reason);
            return true;
        }
        catch (Exception ex)
        {
            _logger.StoreWriteFailed("release", context.Request.Method, context.Request.Path, ex);
            return false;
        }
    }

    // Rolls the handler's transaction back and lends its connection, still held, to what follows (release the key, store the
    // problem, read the catalog): a failing request needs no second pooled connection, which a pool full of transactional
    // requests could not give it.
    private static async ValueTask RollBackAndLendAsync(Execution execution, NpgsqlTransaction transaction, NpgsqlConnection connection)
    {
        try
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // A broken connection rolls the transaction back by itself; a handler that completed it left nothing to roll back.
        }

        execution.Connection = connection;
    }

    // The lent connection when it is usable: open and idle (not broken, no command in progress).
    private static NpgsqlConnection? Lent(Execution execution)
        => execution.Connection is { FullState: ConnectionState.Open } connection ? connection : null;

    // What follows the handler: on the lent connection when there is one, else (or once it broke: its pool slot is free
    // again) through the store's own connections, each attempt within StoreTimeout. A transient failure (the database
    // restarting or failing over) is tried again, with backoff, while the key's lease lasts: the client's answer waits
    // until the response is stored or the key released, instead of leaving the key in progress until its lease ends, when
    // a retry would run the handler again. Storing and releasing are fenced by the claim's token, so a repeat is harmless.
    private async ValueTask<T> OnLentOrPooledAsync<T>(
        Execution execution,
        Func<NpgsqlConnection, CancellationToken, ValueTask<T>>? lent,
        Func<CancellationToken, ValueTask<T>> pooled)
    {
        var delay = FirstStoreRetryDelay;
        while (true)
        {
            using var timeout = new CancellationTokenSource(_options.StoreTimeout);
            try
            {
                if (lent is not null && Lent(execution) is { } connection)
                {
                    try
                    {
                        return await lent(connection, timeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception) when (!timeout.IsCancellationRequested && connection.FullState is not ConnectionState.Open)
                    {
                        execution.Connection = null;
                    }
                }

                return await pooled(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is OperationCanceledException || PostgresResiliencePredicates.IsTransient(ex))
                && execution.LeaseLeft() > delay + StoreRetryMargin)
            {
                _logger.StoreRetrying(execution.Policy.Lease, ex);
                await Task.Delay(delay, _timeProvider).ConfigureAwait(false);
                delay = delay * 2 < MaxStoreRetryDelay ? delay * 2 : MaxStoreRetryDelay;
            }
        }
    }

    // Stores the response on the lent connection, in a transaction of its own (the handler's was rolled back).
    private async ValueTask<bool> CompleteOnAsync(
        NpgsqlConnection connection,
        Execution execution,
        IdempotencyResponse response,
        CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            return await StoreAndCommitAsync(transaction, execution, response, cancellationToken).ConfigureAwait(false);
        }
    }

    // Stores the response in the transaction and commits it; a lost claim stores nothing and commits nothing.
    private async ValueTask<bool> StoreAndCommitAsync(
        NpgsqlTransaction transaction,
        Execution execution,
        IdempotencyResponse response,
        CancellationToken cancellationToken)
    {
        var stored = await _transactionalStore!.CompleteAsync(
            transaction,
            execution.Scope,
            execution.Key,
            execution.FencingToken,
            response,
            execution.Policy.Retention,
            cancellationToken).ConfigureAwait(false);
        if (stored)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return stored;
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
        // Transactional mode, after the handler's transaction rolled back: its connection, still held (see RollBackAndLendAsync).
        public NpgsqlConnection? Connection { get; set; }

        public long ClaimedAt { get; } = Stopwatch.GetTimestamp();

        public TimeSpan LeaseLeft() => Policy.Lease - Stopwatch.GetElapsedTime(ClaimedAt);

        public TimeSpan Overhead(long afterHandler) => PreHandler + Stopwatch.GetElapsedTime(afterHandler);
    }
}

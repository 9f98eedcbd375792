// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

// The Idempotency-Key middleware. Per request that requires a key: parse the key, resolve the caller's scope, fingerprint
// the request, then claim the key in the shared store (one round trip). The claimer runs the handler with its response
// teed into a capture buffer and stores it (or releases the key); everyone else gets a replay, 422, or 409 in-progress.
internal sealed partial class IdempotencyMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IIdempotencyStore _store;
    private readonly IIdempotencyTransactionalStore? _transactionalStore;
    private readonly IIdempotencyScopeResolver _scopeResolver;
    private readonly IdempotencyPolicies _policies;
    private readonly HttpIdempotencyOptions _options;
    private readonly string[] _replayedHeaders;
    private readonly ProblemWriter _problems;
    private readonly ConflictProblemMapper? _conflicts;
    private readonly IdempotentWritesHttpMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public IdempotencyMiddleware(
        RequestDelegate next,
        IIdempotencyStore store,
        IIdempotencyScopeResolver scopeResolver,
        IdempotencyPolicies policies,
        IOptions<HttpIdempotencyOptions> options,
        IdempotentWritesHttpMetrics metrics,
        ILogger<IdempotencyMiddleware> logger,
        IServiceProvider services)
    {
        _next = next;
        _store = store;
        _transactionalStore = store as IIdempotencyTransactionalStore;
        _scopeResolver = scopeResolver;
        _policies = policies;
        _options = options.Value;
        _replayedHeaders = [.. _options.ReplayedHeaders];
        _problems = new ProblemWriter(services.GetService<IProblemDetailsService>());
        _conflicts = services.GetService<ConflictProblemMapper>();
        _metrics = metrics;
        _timeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _logger = logger;
        if (policies.AnyTransactional && _transactionalStore is null)
        {
            throw new InvalidOperationException(
                "Transactional idempotency needs a key store that implements " +
                $"{nameof(IIdempotencyTransactionalStore)} (the PostgreSQL key store does), but IIdempotencyStore " +
                $"is {store.GetType().FullName}, which does not; "
                + $"turn Transactional off, implement {nameof(IIdempotencyTransactionalStore)} in the custom store, or remove it.");
        }
    }

    private static string NoScope(HttpContext context)
        => context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is not null
            && context.User.Identity?.IsAuthenticated != true
            ? "The request has no idempotency scope: its endpoint requires authorization, but the caller was not " +
                "authenticated when the Idempotency-Key middleware ran. Call app.UseIdempotency() after " +
                "app.UseAuthentication() and app.UseAuthorization(), so that the caller is known (and an unauthenticated " +
                "request is refused before it)."
            : "The request has no idempotency scope: the caller is anonymous and HttpIdempotencyOptions.AnonymousScope is " +
                "not set. Authenticate the endpoint, set AnonymousScope, or register an IIdempotencyScopeResolver.";

    public static bool IsSafe(string method)
        => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    // Stored: 2xx, 3xx and deterministic 4xx. Released (a retry runs again): 5xx, 408 Request Timeout, 425 Too Early,
    // 429 Too Many Requests, and 1xx (never final).
    public static bool IsStored(int statusCode)
        => statusCode is >= 200 and < 500 and not (StatusCodes.Status408RequestTimeout or 425 or StatusCodes.Status429TooManyRequests);

    public Task Invoke(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<DisableIdempotencyAttribute>() is not null)
        {
            return _next(context);
        }

        var requirement = endpoint.Metadata.GetMetadata<RequireIdempotencyKeyAttribute>();
        if (requirement is null || IsSafe(context.Request.Method))
        {
            return _next(context);
        }

        return InvokeIdempotentAsync(context, requirement);
    }

    private async Task InvokeIdempotentAsync(HttpContext context, RequireIdempotencyKeyAttribute requirement)
    {
        var policy = _policies.Get(requirement.PolicyName);
        var parsed = IdempotencyKeyParser.Parse(context.Request.Headers[_options.HeaderName], _options.LenientKeyParsing);
        if (parsed.Status == KeyParseStatus.Missing)
        {
            _metrics.Request("missing_key");
            await WriteProblemAsync(
                context,
                StatusCodes.Status400BadRequest,
                IdempotentWritesProblemCodes.MissingKey,
                "An Idempotency-Key header is required.",
                $"This endpoint requires an {_options.HeaderName} header: a unique key per operation, reused when " +
                "the request is retried.").ConfigureAwait(false);
            return;
        }

        if (parsed.Status == KeyParseStatus.Invalid)
        {
            _metrics.Request("invalid_key");
            await WriteProblemAsync(
                context,
                StatusCodes.Status400BadRequest,
                IdempotentWritesProblemCodes.InvalidKey,
                "The Idempotency-Key header is invalid.",
                parsed.Error).ConfigureAwait(false);
            return;
        }

        var key = parsed.Key!;
        var scope = await _scopeResolver.ResolveScopeAsync(context, context.RequestAborted).ConfigureAwait(false)
            ?? throw new InvalidOperationException(NoScope(context));
        using var activity = IdempotentWritesHttpMetrics.Source.StartActivity("idempotency " + context.Request.Method, ActivityKind.Internal);
        var started = Stopwatch.GetTimestamp();
        byte[] fingerprint;
        try
        {
            fingerprint = await RequestFingerprint.ComputeAsync(context, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            // The client's fault (body over the limit, broken chunked framing, too slow): answered like the server would
            // answer it without the middleware, and nothing is claimed, so the key stays free for a corrected request.
            Finish(activity, "bad_request", Stopwatch.GetElapsedTime(started));
            await WriteBadRequestAsync(context, ex).ConfigureAwait(false);
            return;
        }

        var waitUntil = policy.InProgressWaitTimeout > TimeSpan.Zero
            ? _timeProvider.GetTimestamp() + (long)(policy.InProgressWaitTimeout.TotalSeconds * _timeProvider.TimestampFrequency)
            : 0;
        while (true)
        {
            IdempotencyClaim claim;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                timeout.CancelAfter(_options.StoreTimeout);
                claim = await _store.ClaimAsync(scope, key, fingerprint, policy.Lease, policy.Retention, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
            {
                _logger.StoreUnavailable(context.Request.Method, context.Request.Path, ex);
                Finish(activity, "store_unavailable", Stopwatch.GetElapsedTime(started), ex);
                await WriteStoreUnavailableAsync(context).ConfigureAwait(false);
                return;
            }

            if (claim.Outcome == IdempotencyClaimOutcome.Acquired)
            {
                _metrics.Claimed(claim.IsTakeover);
                var execution = new Execution(scope, key, claim.FencingToken, fingerprint, policy, activity, Stopwatch.GetElapsedTime(started));
                if (policy.Transactional)
                {
                    await ExecuteTransactionalAsync(context, execution).ConfigureAwait(false);
                }
                else
                {
                    await ExecuteAsync(context, execution).ConfigureAwait(false);
                }

                return;
            }

            var record = claim.Record!;
            if (!record.Fingerprint.Span.SequenceEqual(fingerprint))
            {
                _logger.FingerprintMismatch(context.Request.Method, context.Request.Path);
                Finish(activity, "fingerprint_mismatch", Stopwatch.GetElapsedTime(started));
                await WriteProblemAsync(
                    context,
                    StatusCodes.Status422UnprocessableEntity,
                    IdempotentWritesProblemCodes.FingerprintMismatch,
                    "The Idempotency-Key was already used for a different request.",
                    "Use a new key for a new request. A retry of the original request with this key gets the " +
                    "original response.").ConfigureAwait(false);
                return;
            }

            if (record.Response is { } stored)
            {
                await ReplayAsync(context, stored).ConfigureAwait(false);
                Finish(activity, "replayed", Stopwatch.GetElapsedTime(started));
                return;
            }

            if (waitUntil != 0 && _timeProvider.GetTimestamp() < waitUntil)
            {
                var remaining = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), waitUntil);
                var delay = remaining < _options.InProgressPollInterval ? remaining : _options.InProgressPollInterval;
                await Task.Delay(delay, _timeProvider, context.RequestAborted).ConfigureAwait(false);
                continue;
            }

            _logger.KeyInProgress(context.Request.Method, context.Request.Path, record.LeaseRemaining);
            Finish(activity, "in_progress", Stopwatch.GetElapsedTime(started));
            context.Response.Headers.RetryAfter = ProblemWriter.RetryAfterSeconds(record.LeaseRemaining);
            await WriteProblemAsync(
                context,
                StatusCodes.Status409Conflict,
                IdempotentWritesProblemCodes.InProgress,
                "A request with this Idempotency-Key is still being processed.",
                "Retry after the time in the Retry-After header to get its response.").ConfigureAwait(false);
            return;
        }
    }

    private async Task ReplayAsync(HttpContext context, IdempotencyResponse stored)
    {
        var response = context.Response;
        response.StatusCode = stored.StatusCode;
        foreach (var (name, value) in stored.Headers)
        {
            response.Headers.Append(name, value);
        }

        response.Headers[IdempotencyHeaderNames.IdempotentReplayed] = "true";
        _logger.ResponseReplayed(stored.StatusCode, context.Request.Method, context.Request.Path);
        if (stored.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)
        {
            return;
        }

        response.ContentLength = stored.Body.Length;
        if (!stored.Body.IsEmpty && !HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(stored.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private IdempotencyResponse CaptureResponse(HttpContext context, ResponseCaptureStream capture, EffectivePolicy policy)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var name in _replayedHeaders)
        {
            foreach (var value in context.Response.Headers[name])
            {
                if (value is not null)
                {
                    headers.Add(new(name, value));
                }
            }
        }

        if (capture.BodyOmitted)
        {
            _logger.ResponseBodyOmitted(context.Request.Method, context.Request.Path, policy.MaxResponseBodySize);
        }

        // Copied: the capture buffer belongs to this request, the stored response may outlive it in a custom store.
        return new IdempotencyResponse(context.Response.StatusCode, headers, capture.Captured.ToArray(), capture.BodyOmitted);
    }

    private async ValueTask<bool> TryReleaseAsync(HttpContext context, string scope, string key, long token, string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StoreTimeout);
            await _store.ReleaseAsync(scope, key, token, timeout.Token).ConfigureAwait(false);
            _logger.KeyReleased(context.Request.Method, context.Request.Path, reason);
            return true;
        }
        catch (Exception ex)
        {
            _logger.StoreWriteFailed("release", context.Request.Method, context.Request.Path, ex);
            return false;
        }
    }

    private ValueTask WriteBadRequestAsync(HttpContext context, BadHttpRequestException exception)
    {
        _logger.BadRequest(context.Request.Method, context.Request.Path, exception.StatusCode, exception);
        return WriteProblemAsync(
            context,
            exception.StatusCode,
            IdempotentWritesProblemCodes.BadRequest,
            "The request could not be read.",
            "The request was not processed and its Idempotency-Key was not used: fix the request and send it again with the same key.");
    }

    private ValueTask WriteProblemAsync(HttpContext context, int statusCode, string code, string title, string? detail)
        => _problems.WriteAsync(context, ProblemWriter.Create(context, statusCode, code, title, detail));

    private void Finish(Activity? activity, string result, TimeSpan overhead, Exception? exception = null)
    {
        _metrics.Request(result);
        _metrics.Overhead(result, overhead.TotalSeconds);
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag("idempotent_writes.http.result", result);
        }

        if (exception is not null)
        {
            activity.SetTag("error.type", exception.GetType().FullName);
            activity.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            activity.AddException(exception);
        }
    }
}

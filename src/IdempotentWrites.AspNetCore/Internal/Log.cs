// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Logging;

namespace IdempotentWrites.AspNetCore.Internal;

// Keys, scopes and bodies are never logged: the method, path and status identify the request well enough.
internal static partial class Log
{
    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.ResponseReplayed,
        LogLevel.Debug,
        "Replayed the stored {StatusCode} response for {Method} {Path}",
        EventName = "ResponseReplayed")]
    public static partial void ResponseReplayed(this ILogger logger, int statusCode, string method, string path);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.KeyInProgress,
        LogLevel.Debug,
        "Refused {Method} {Path}: its Idempotency-Key is in progress for another {LeaseRemaining}",
        EventName = "KeyInProgress")]
    public static partial void KeyInProgress(this ILogger logger, string method, string path, TimeSpan leaseRemaining);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.FingerprintMismatch,
        LogLevel.Information,
        "Refused {Method} {Path}: its Idempotency-Key was used for a different request",
        EventName = "FingerprintMismatch")]
    public static partial void FingerprintMismatch(this ILogger logger, string method, string path);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.StoreUnavailable,
        LogLevel.Error,
        "Refused {Method} {Path} with 503: the idempotency key store is unavailable",
        EventName = "StoreUnavailable")]
    public static partial void StoreUnavailable(this ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.ClaimLost,
        LogLevel.Warning,
        "The execution of {Method} {Path} lost its Idempotency-Key claim (taken over after the lease); its {StatusCode} response was not stored",
        EventName = "ClaimLost")]
    public static partial void ClaimLost(this ILogger logger, string method, string path, int statusCode);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.StoreWriteFailed,
        LogLevel.Error,
        "Could not {Operation} the Idempotency-Key of {Method} {Path} after the handler ran; the key stays in progress until its lease ends",
        EventName = "StoreWriteFailed")]
    public static partial void StoreWriteFailed(this ILogger logger, string operation, string method, string path, Exception exception);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.KeyReleased,
        LogLevel.Debug,
        "Released the Idempotency-Key of {Method} {Path} ({Reason}); a retry runs the handler again",
        EventName = "KeyReleased")]
    public static partial void KeyReleased(this ILogger logger, string method, string path, string reason);

    [LoggerMessage(IdempotentWritesAspNetCoreEventId.KeysPurged, LogLevel.Debug, "Purged {Count} expired idempotency keys", EventName = "KeysPurged")]
    public static partial void KeysPurged(this ILogger logger, long count);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.PurgeFailed,
        LogLevel.Warning,
        "The purge of expired idempotency keys failed; it runs again in {Interval}",
        EventName = "PurgeFailed")]
    public static partial void PurgeFailed(this ILogger logger, TimeSpan interval, Exception exception);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.StoreTableReady,
        LogLevel.Information,
        "The idempotency key store table {Table} is ready",
        EventName = "StoreTableReady")]
    public static partial void StoreTableReady(this ILogger logger, string table);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.ConflictMapped,
        LogLevel.Debug,
        "Answered {ErrorType} on constraint {Constraint} with {StatusCode} {Code}",
        EventName = "ConflictMapped")]
    public static partial void ConflictMapped(this ILogger logger, string errorType, string? constraint, int statusCode, string code);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.ResponseBodyOmitted,
        LogLevel.Warning,
        "The response body of {Method} {Path} exceeded {MaxBytes} bytes: only its status and headers are stored for replay",
        EventName = "ResponseBodyOmitted")]
    public static partial void ResponseBodyOmitted(this ILogger logger, string method, string path, long maxBytes);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.ConstraintLookupFailed,
        LogLevel.Warning,
        "Could not read the catalog definition of constraint {Constraint}; the problem has no fields",
        EventName = "ConstraintLookupFailed")]
    public static partial void ConstraintLookupFailed(this ILogger logger, string constraint, Exception exception);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.BadRequest,
        LogLevel.Debug,
        "Answered {Method} {Path} with {StatusCode}: the request could not be read; its Idempotency-Key was not consumed",
        EventName = "BadRequest")]
    public static partial void BadRequest(this ILogger logger, string method, string path, int statusCode, Exception exception);

    [LoggerMessage(
        IdempotentWritesAspNetCoreEventId.StoreRetrying,
        LogLevel.Information,
        "Storing the response or releasing the key failed on a transient error; trying again within the lease of {Lease}",
        EventName = "StoreRetrying")]
    public static partial void StoreRetrying(this ILogger logger, TimeSpan lease, Exception exception);
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// The stable <c>code</c> values of the <c>application/problem+json</c> responses (RFC 9457) that IdempotentWrites writes.
/// Clients can switch on them; the <c>title</c> and <c>detail</c> texts may change.
/// </summary>
public static class IdempotentWritesProblemCodes
{
    /// <summary>409: a unique constraint or unique index already holds a row with these values (SQLSTATE 23505).</summary>
    public const string UniqueViolation = "unique-violation";

    /// <summary>409: a serialization failure (40001), deadlock (40P01) or unavailable lock (55P03); retrying the request may succeed.</summary>
    public const string RetryableConflict = "retryable-conflict";

    /// <summary>409: a foreign-key constraint was violated (23503): a referenced row is missing, or the row is still referenced.</summary>
    public const string ForeignKeyViolation = "foreign-key-violation";

    /// <summary>409: an exclusion constraint was violated (23P01), for example an overlapping reservation.</summary>
    public const string ExclusionViolation = "exclusion-violation";

    /// <summary>422: a required column received no value (23502).</summary>
    public const string NotNullViolation = "not-null-violation";

    /// <summary>422: a check constraint rejected a value (23514).</summary>
    public const string CheckViolation = "check-violation";

    /// <summary>422: one statement affected the same row twice (21000), typically duplicates inside one batch.</summary>
    public const string CardinalityViolation = "cardinality-violation";

    /// <summary>400: an endpoint that requires an <c>Idempotency-Key</c> header received none.</summary>
    public const string MissingKey = "missing-key";

    /// <summary>400: the <c>Idempotency-Key</c> header is empty, repeated, longer than 255 characters, not printable
    /// ASCII, or not a structured-field string.</summary>
    public const string InvalidKey = "invalid-key";

    /// <summary>422: the key was already used for a different request (method, route, path, query, content type or body).</summary>
    public const string FingerprintMismatch = "fingerprint-mismatch";

    /// <summary>409: a request with the same key is still being processed; <c>Retry-After</c> says when its lease ends.</summary>
    public const string InProgress = "in-progress";

    /// <summary>
    /// 400, 408, 413, 431 or another 4xx: the request itself could not be read (a body over the server's limit, broken chunked
    /// framing, a body that arrived too slowly); the status is the server's. The key is not consumed: nothing was stored.
    /// </summary>
    public const string BadRequest = "bad-request";

    /// <summary>
    /// 503: the application's own write could not reach PostgreSQL (<c>DatabaseUnavailableException</c>: down, restarting,
    /// unreachable); nothing was written, <c>Retry-After</c> says when to try again.
    /// </summary>
    public const string DatabaseUnavailable = "database-unavailable";

    /// <summary>503: the idempotency key store (PostgreSQL) could not be reached; the handler did not run.</summary>
    public const string StoreUnavailable = "store-unavailable";
}

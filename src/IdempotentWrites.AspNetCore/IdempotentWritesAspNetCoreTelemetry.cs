// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// Names of the traces and metrics IdempotentWrites.AspNetCore emits. Tags are low-cardinality: never a key, a scope or a value.
/// Add them to OpenTelemetry with <c>.AddSource(ActivitySourceName)</c> and <c>.AddMeter(MeterName)</c>.
/// </summary>
public static class IdempotentWritesAspNetCoreTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/>: one span per idempotent request.</summary>
    public const string ActivitySourceName = "IdempotentWrites.AspNetCore";

    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string MeterName = "IdempotentWrites.AspNetCore";

    /// <summary>
    /// Counter of requests to endpoints that require a key, tagged with <c>idempotent_writes.http.result</c>: <c>stored</c>,
    /// <c>released</c>, <c>replayed</c>, <c>in_progress</c>, <c>fingerprint_mismatch</c>, <c>missing_key</c>, <c>invalid_key</c>,
    /// <c>store_unavailable</c>, <c>bad_request</c>, <c>claim_lost</c>, <c>store_failed</c> or <c>exception</c>.
    /// </summary>
    public const string RequestsCounter = "idempotent_writes.http.requests";

    /// <summary>Counter of keys claimed for a new execution, tagged with <c>idempotent_writes.http.claim</c>
    /// (<c>new</c>, or <c>takeover</c> of an expired key or an ended lease).</summary>
    public const string ClaimsCounter = "idempotent_writes.http.claims";

    /// <summary>Counter of expired keys deleted by the purge.</summary>
    public const string PurgedCounter = "idempotent_writes.http.purged";

    /// <summary>Counter of database errors answered with problem details, tagged with
    /// <c>idempotent_writes.problem.code</c> and <c>http.response.status_code</c>.</summary>
    public const string ProblemsCounter = "idempotent_writes.http.problems";

    /// <summary>Histogram of the time the middleware adds to a request (store claim, completion or replay) in seconds,
    /// tagged with the result.</summary>
    public const string OverheadHistogram = "idempotent_writes.http.overhead";
}

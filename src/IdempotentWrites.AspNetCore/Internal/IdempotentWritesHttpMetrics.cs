// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IdempotentWrites.AspNetCore.Internal;

// Counters of the middleware and the problem mapper. Tags are low-cardinality only: never a key, scope or value.
internal sealed class IdempotentWritesHttpMetrics
{
    public static readonly ActivitySource Source = new(
        IdempotentWritesAspNetCoreTelemetry.ActivitySourceName,
        typeof(IdempotentWritesHttpMetrics).Assembly.GetName().Version?.ToString());

    private readonly Counter<long> _requests;
    private readonly Counter<long> _claims;
    private readonly Counter<long> _purged;
    private readonly Counter<long> _problems;
    private readonly Histogram<double> _overhead;

    public IdempotentWritesHttpMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(IdempotentWritesAspNetCoreTelemetry.MeterName);
        _requests = meter.CreateCounter<long>(
            IdempotentWritesAspNetCoreTelemetry.RequestsCounter,
            "{request}",
            "Requests to endpoints that require an Idempotency-Key, by result.");
        _claims = meter.CreateCounter<long>(
            IdempotentWritesAspNetCoreTelemetry.ClaimsCounter,
            "{claim}",
            "Idempotency keys claimed for a new execution.");
        _purged = meter.CreateCounter<long>(IdempotentWritesAspNetCoreTelemetry.PurgedCounter, "{key}", "Expired idempotency keys deleted.");
        _problems = meter.CreateCounter<long>(
            IdempotentWritesAspNetCoreTelemetry.ProblemsCounter,
            "{response}",
            "Database errors answered with problem details.");
        _overhead = meter.CreateHistogram<double>(
            IdempotentWritesAspNetCoreTelemetry.OverheadHistogram,
            "s",
            "Time the idempotency middleware adds to a request (claim, completion, replay).",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
            });
    }

    public void Request(string result)
    {
        if (_requests.Enabled)
        {
            _requests.Add(1, new KeyValuePair<string, object?>("idempotent_writes.http.result", result));
        }
    }

    public void Claimed(bool takeover)
    {
        if (_claims.Enabled)
        {
            _claims.Add(1, new KeyValuePair<string, object?>("idempotent_writes.http.claim", takeover ? "takeover" : "new"));
        }
    }

    public void Purged(long count)
    {
        if (count > 0 && _purged.Enabled)
        {
            _purged.Add(count);
        }
    }

    public void Problem(string code, int statusCode)
    {
        if (_problems.Enabled)
        {
            _problems.Add(
                1,
                new KeyValuePair<string, object?>("idempotent_writes.problem.code", code),
                new KeyValuePair<string, object?>("http.response.status_code", statusCode));
        }
    }

    public void Overhead(string result, double seconds)
    {
        if (_overhead.Enabled)
        {
            _overhead.Record(seconds, new KeyValuePair<string, object?>("idempotent_writes.http.result", result));
        }
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Diagnostics.Metrics;
using IdempotentWrites.Internal.Mapping;
using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// Spans and metrics of the writer. Tags are low-cardinality only: operation, table, constraint, outcome, error type —
// never a key or a value.
internal sealed class WriterTelemetry : IDisposable
{
    public static readonly ActivitySource Source = new(
        IdempotentWritesTelemetry.ActivitySourceName,
        typeof(WriterTelemetry).Assembly.GetName().Version?.ToString());

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _operations;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _sequenceRepairs;
    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _coalescedRows;

    public WriterTelemetry(IMeterFactory? meterFactory)
    {
        // A factory owns (and disposes) the meters it creates; without one, this instance does.
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(IdempotentWritesTelemetry.MeterName) ?? new Meter(IdempotentWritesTelemetry.MeterName);
        _operations = _meter.CreateCounter<long>(
            IdempotentWritesTelemetry.OperationsCounter,
            "{operation}",
            "Completed IdempotentWrites operations.");
        _conflicts = _meter.CreateCounter<long>(
            IdempotentWritesTelemetry.ConflictsCounter,
            "{conflict}",
            "Unique-key conflicts, resolved by the arbiter or raised as violations.");
        _retries = _meter.CreateCounter<long>(IdempotentWritesTelemetry.RetriesCounter, "{retry}", "Retries after transient faults.");
        _sequenceRepairs = _meter.CreateCounter<long>(
            IdempotentWritesTelemetry.SequenceRepairsCounter,
            "{sequence}",
            "Sequences repaired by the writer's self-healing.");
        _duration = _meter.CreateHistogram<double>(
            IdempotentWritesTelemetry.DurationHistogram,
            "s",
            "Duration of IdempotentWrites operations, retries included.",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
        _coalescedRows = _meter.CreateHistogram<int>(
            IdempotentWritesTelemetry.CoalescedRowsHistogram,
            "{row}",
            "Rows carried by each coalesced statement.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
    }

    // A coalesced statement's span: a root of its own (it serves many callers), linked to each caller's span.
    public static Activity? StartCoalesced(string operation, TableMapping mapping, IEnumerable<ActivityLink> links, int rows)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;
        Activity.Current = null;
        try
        {
            var name = "coalesced " + operation + " " + mapping.DisplayName;
            var activity = Source.StartActivity(ActivityKind.Internal, default, links: links, name: name);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("db.system.name", "postgresql");
                activity.SetTag("db.collection.name", mapping.DisplayName);
                activity.SetTag("idempotent_writes.operation", operation);
                activity.SetTag("idempotent_writes.coalesced.rows", rows);
            }

            return activity;
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    public void Coalesced(string operation, TableMapping mapping, int rows)
    {
        if (_coalescedRows.Enabled)
        {
            _coalescedRows.Record(rows, new TagList
            {
                { "idempotent_writes.operation", operation },
                { "db.collection.name", mapping.DisplayName },
            });
        }
    }

    public static Activity? Start(string operation, TableMapping mapping) => Start(operation + " " + mapping.DisplayName, operation, mapping);

    // spanName is "<operation> <table>", precomputed per table by the writer's hot path.
    public static Activity? Start(string spanName, string operation, TableMapping mapping)
    {
        var activity = Source.HasListeners() ? Source.StartActivity(spanName, ActivityKind.Internal) : null;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", "postgresql");
            activity.SetTag("db.collection.name", mapping.DisplayName);
            activity.SetTag("idempotent_writes.operation", operation);
        }

        return activity;
    }

    public static string ErrorType(Exception exception) => exception switch
    {
        IdempotentWritesException { SqlState: { } sqlState } => sqlState,
        PostgresException postgres => postgres.SqlState,
        _ => exception.GetType().FullName ?? exception.GetType().Name,
    };

    public void Succeeded(Activity? activity, string operation, WritePlan plan, WriteOutcome outcome, int attempts, long startTimestamp)
    {
        var outcomeName = OutcomeName(outcome);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("idempotent_writes.outcome", outcomeName);
            activity.SetTag("idempotent_writes.attempts", attempts);
        }

        if (_operations.Enabled || _duration.Enabled)
        {
            var tags = new TagList
            {
                { "idempotent_writes.operation", operation },
                { "db.collection.name", plan.Mapping.DisplayName },
                { "idempotent_writes.outcome", outcomeName },
            };
            Record(tags, startTimestamp);
        }

        if (outcome != WriteOutcome.Inserted && _conflicts.Enabled)
        {
            _conflicts.Add(1, new TagList
            {
                { "db.collection.name", plan.Mapping.DisplayName },
                { "idempotent_writes.constraint", plan.ArbiterIndexes.Count > 0 ? plan.ArbiterIndexes[0] : null },
                { "idempotent_writes.conflict.kind", "resolved" },
            });
        }
    }

    public void Failed(Activity? activity, string operation, TableMapping mapping, Exception exception, long startTimestamp)
    {
        var errorType = ErrorType(exception);
        if (activity is not null)
        {
            activity.SetTag("error.type", errorType);
            activity.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            activity.AddException(exception);
        }

        Record(
            new TagList
            {
                { "idempotent_writes.operation", operation },
                { "db.collection.name", mapping.DisplayName },
                { "error.type", errorType },
            },
            startTimestamp);
        if (exception is UniqueViolationException violation && _conflicts.Enabled)
        {
            _conflicts.Add(1, new TagList
            {
                { "db.collection.name", mapping.DisplayName },
                { "idempotent_writes.constraint", violation.ConstraintName },
                { "idempotent_writes.conflict.kind", "violation" },
            });
        }
    }

    public void Retried(string operation, Exception? exception)
    {
        Activity.Current?.AddEvent(new ActivityEvent("retry"));
        if (_retries.Enabled)
        {
            _retries.Add(1, new TagList
            {
                { "idempotent_writes.operation", operation },
                { "error.type", exception is null ? "unknown" : ErrorType(exception) },
            });
        }
    }

    public void SequencesRepaired(string table, int count)
    {
        Activity.Current?.AddEvent(new ActivityEvent("sequence_repaired"));
        if (_sequenceRepairs.Enabled && count > 0)
        {
            _sequenceRepairs.Add(count, new KeyValuePair<string, object?>("db.collection.name", table));
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static string OutcomeName(WriteOutcome outcome) => outcome switch
    {
        WriteOutcome.Inserted => "inserted",
        WriteOutcome.Existing => "existing",
        WriteOutcome.Updated => "updated",
        _ => "unchanged",
    };

    private void Record(in TagList tags, long startTimestamp)
    {
        if (_operations.Enabled)
        {
            _operations.Add(1, tags);
        }

        if (_duration.Enabled)
        {
            _duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        }
    }
}

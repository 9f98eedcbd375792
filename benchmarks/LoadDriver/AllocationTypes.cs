// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Text.RegularExpressions;

namespace LoadDriver;

// Which types a piece of code allocates: the runtime's GC AllocationTick event (one sample about every 100 KB allocated,
// naming the type of the object that crossed the threshold), summed by type. A sample stands for the bytes since the
// previous one, so with enough calls the shares approach the real mix. Its own event dispatch allocates, so it runs on a
// separate pass, never around a measurement (BENCH_ALLOC_TYPES=1).
internal sealed partial class AllocationTypes : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start()
    {
        _bytes.Clear();
        _recording = true;
    }

    public IReadOnlyList<(string Type, long Bytes)> Stop()
    {
        _recording = false;
        return [.. _bytes.Select(p => (p.Key, p.Value)).OrderByDescending(p => p.Value)];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var type = names.IndexOf("TypeName") is >= 0 and var t ? eventData.Payload![t] as string ?? "?" : "?";
        var amount = names.IndexOf("AllocationAmount64") is >= 0 and var a ? Convert.ToInt64(eventData.Payload![a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(Short(type), amount, (_, total) => total + amount);
    }

    // "AsyncStateMachineBox`1[…IdempotentWriter+<BatchAsync>d__61`1[…]]" -> "async IdempotentWriter.BatchAsync";
    // "Npgsql.NpgsqlParameter[]" -> "NpgsqlParameter[]"; generic arguments dropped.
    private static string Short(string type)
    {
        if (type.Contains("AsyncStateMachineBox", StringComparison.Ordinal) && StateMachine().Match(type) is { Success: true } m)
        {
            var method = m.Groups[4].Success ? m.Groups[4].Value : m.Groups[3].Value;
            return "async " + m.Groups[1].Value + "." + method + (m.Groups[2].Success && !m.Groups[4].Success ? " (lambda)" : string.Empty);
        }

        var array = type.EndsWith("[]", StringComparison.Ordinal) ? "[]" : string.Empty;
        var open = type.IndexOf('[', StringComparison.Ordinal);
        var name = open > 0 ? type[..open] : type;
        name = name[(name.LastIndexOf('.') + 1)..];
        return name + array;
    }

    // The first state machine named in the box: its declaring type (namespace and generic arity dropped), whether it is a
    // lambda's (<>c__…), the method, and a local function's name (g__Name).
    [GeneratedRegex(@"(?:\w+\.)*(\w+)(?:`\d+)?\+(<>c__[\w`]+\+)?<+(\w+)>(?:g__(\w+))?")]
    private static partial Regex StateMachine();
}

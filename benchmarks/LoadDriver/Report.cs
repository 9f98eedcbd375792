// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json;

namespace LoadDriver;

// Turns the rows both drivers wrote into the table, the target lines, latest.txt, latest.json and chart.svg.
// Throughput blocks (ops/s, req/s) show ratios to their reference; the alloc and pipeline blocks (B/call, ns/call) show
// differences to theirs. A target is met when measured >= goal, or measured <= goal for the lower-is-better ones (alloc:…).
internal static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string directory, string[] inputs)
    {
        var results = inputs.Where(File.Exists).SelectMany(File.ReadAllLines).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(Result.Parse).ToList();
        if (results.Count == 0)
        {
            Console.Error.WriteLine("report: no results");
            return 1;
        }

        Directory.CreateDirectory(directory);
        var text = new StringBuilder();
        var targets = new List<Target>();
        foreach (var group in results.GroupBy(r => (r.Section, r.Workload, r.Callers)))
        {
            var rows = group.ToList();
            var (referenceName, reference) = Reference(group.Key.Section, rows);
            var limit = rows.Where(r => r.Scenario.StartsWith("pgbench-", StringComparison.Ordinal)).Select(r => r.Median).DefaultIfEmpty(0).Max();
            var unit = Unit(group.Key.Section, group.Key.Workload);
            var perCall = group.Key.Section is "alloc" or "pipeline" or "cpu";
            text.AppendLine(Inv, $"{group.Key.Section} / {group.Key.Workload} / {group.Key.Callers} {(group.Key.Section == "http" ? "connections" : "callers")}   ({(perCall ? "difference to" : "ratio vs")} {referenceName}{(limit > 0 ? "; share of the pgbench limit" : string.Empty)})");
            foreach (var r in rows)
            {
                var share = limit > 0 ? string.Create(Inv, $"{r.Median / limit,6:P0}") : string.Empty;
                var relative = perCall ? string.Create(Inv, $"{r.Median - reference,7:+0;-0;0} {unit}") : string.Create(Inv, $"{r.Median / reference,6:F2}x");
                text.AppendLine(Inv, $"  {r.Scenario,-36} {r.Median,10:F0} {unit}  [{r.Min:F0} – {r.Max:F0}]  {relative}  {share}");
            }

            targets.AddRange(Targets(group.Key.Section, group.Key.Workload, group.Key.Callers, rows));
        }

        text.AppendLine();
        foreach (var (name, measured, goal, _) in targets)
        {
            text.AppendLine(Inv, $"target {name} {measured:F2} {goal:F2}");
        }

        Console.Write(text);
        File.WriteAllText(Path.Combine(directory, "latest.txt"), text.ToString());
        File.WriteAllText(Path.Combine(directory, "latest.json"), Json(results, targets));
        File.WriteAllText(Path.Combine(directory, "chart.svg"), Svg(results));
        return 0;
    }

    private static (string Name, double Value) Reference(string section, List<Result> rows)
    {
        var best = (Result?)null;
        string[] names = section switch
        {
            "insert-or-get" => InsertOrGetRaw,
            "upsert" => ["raw-upsert"],
            "connection" => ["raw-held-connection"],
            "http" => ["baseline"],
            "pipeline" => ["empty"],

            // The raw strategy that sends the SDK's statements for the case, with the same pool setting (listed right after the SDK).
            "alloc" => [AllocReference(rows)],
            _ => [rows[0].Scenario],
        };
        if (!rows.Any(r => names.Contains(r.Scenario)) && section is "insert-or-get" or "upsert")
        {
            // A run of only the same-pool raw strategies (BENCH_ONLY): those are the reference.
            names = [.. names.Select(n => n + SamePool)];
        }

        foreach (var r in rows.Where(r => names.Contains(r.Scenario)))
        {
            if (best is null || r.Median > best.Median)
            {
                best = r;
            }
        }

        best ??= rows[0];
        return (names.Length > 1 ? "best raw (" + best.Scenario + ")" : best.Scenario, best.Median);
    }

    // The raw insert-or-get strategies the "best raw" is chosen from (default pool; "-no-reset" appended for the same pool setting).
    private static readonly string[] InsertOrGetRaw = ["raw-insert-first", "raw-select-first", "raw-do-nothing-then-select"];

    // The suffix of a raw scenario run with the SDK's pool setting (No Reset On Close=true).
    private const string SamePool = "-no-reset";

    private static string AllocReference(List<Result> rows)
        => rows.FirstOrDefault(r => r.Scenario.StartsWith("raw-", StringComparison.Ordinal))?.Scenario ?? rows[0].Scenario;

    private static string Unit(string section, string workload) => section switch
    {
        "http" => "req/s",
        "alloc" => "B/call",
        "cpu" => "µs/call",
        "pipeline" => workload.EndsWith("ns-per-call", StringComparison.Ordinal) ? "ns/call" : "B/call",
        _ => "ops/s",
    };

    private static IEnumerable<Target> Targets(string section, string workload, int callers, List<Result> rows)
    {
        double? Median(string scenario) => rows.FirstOrDefault(r => r.Scenario == scenario)?.Median;

        // The SDK against a reference, round by round: every round runs each scenario once (back to back, in rotated order),
        // so the median of the per-round ratios cancels what drifts between rounds (table size, autovacuum, checkpoints).
        double? Paired(string scenario, string reference)
            => rows.FirstOrDefault(r => r.Scenario == scenario) is { } a && rows.FirstOrDefault(r => r.Scenario == reference) is { } b
                && a.Runs.Length == b.Runs.Length
                ? new Result(section, workload, callers, scenario, [.. a.Runs.Zip(b.Runs, (x, y) => x / y)]).Median
                : null;
        double? PairedBest(string scenario, string suffix)
            => InsertOrGetRaw.Select(n => n + suffix).Where(n => Median(n) is not null).MaxBy(n => Median(n)) is { } best
                ? Paired(scenario, best)
                : null;
        var where = string.Create(Inv, $"{workload}:c{callers}");
        switch (section)
        {
            case "insert-or-get" when Median("sdk") is not null:
                if (PairedBest("sdk", string.Empty) is { } best)
                {
                    yield return new($"insert-or-get-vs-best-raw:{where}", best, 0.95);
                }

                if (PairedBest("sdk", SamePool) is { } bestSamePool)
                {
                    yield return new($"insert-or-get-vs-best-raw-same-pool:{where}", bestSamePool, 0.95);
                }

                if (workload is "hot-1000" && Paired("sdk", "catch-23505") is { } caught)
                {
                    yield return new($"insert-or-get-vs-catch-23505:{where}", caught, 1.5);
                }

                break;
            case "upsert" when Paired("sdk-upsert", "raw-upsert") is { } upsert:
                yield return new($"upsert-vs-raw:{where}", upsert, 0.95);
                if (Paired("sdk-upsert", "raw-upsert" + SamePool) is { } upsertSamePool)
                {
                    yield return new($"upsert-vs-raw-same-pool:{where}", upsertSamePool, 0.95);
                }

                break;
            case "alloc" when rows.FirstOrDefault(r => r.Scenario.StartsWith("sdk", StringComparison.Ordinal)) is { } sdkRow
                && Median(AllocReference(rows)) is { } rawBytes:
                // Bytes per call the SDK allocates beyond raw Npgsql sending the same statements: at most 512.
                yield return new($"alloc:{workload}", sdkRow.Median - rawBytes, 512, LowerIsBetter: true);
                break;
            case "http" when Paired("replay", "baseline") is { } replay:
                // The handler: POST /payments/baseline, the same endpoint without the middleware (validation + one INSERT).
                yield return new($"replay-vs-handler:c{callers}", replay, 1.0);
                if (Paired("replay", "first-request") is { } first)
                {
                    yield return new($"replay-vs-first-request:c{callers}", first, 1.0);
                }

                break;
        }
    }

    private static string Json(List<Result> results, List<Target> targets)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("generated", DateTimeOffset.UtcNow.ToString("u", Inv));
            json.WriteString("machine", $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
            json.WriteStartArray("results");
            foreach (var r in results)
            {
                json.WriteStartObject();
                json.WriteString("section", r.Section);
                json.WriteString("workload", r.Workload);
                json.WriteNumber("callers", r.Callers);
                json.WriteString("scenario", r.Scenario);
                json.WriteNumber("median", Math.Round(r.Median, 1));
                json.WriteNumber("min", Math.Round(r.Min, 1));
                json.WriteNumber("max", Math.Round(r.Max, 1));
                json.WriteStartArray("runs");
                foreach (var v in r.Runs)
                {
                    json.WriteNumberValue(Math.Round(v, 1));
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("targets");
            foreach (var target in targets)
            {
                json.WriteStartObject();
                json.WriteString("name", target.Name);
                json.WriteNumber("measured", Math.Round(target.Measured, 3));
                json.WriteNumber("goal", target.Goal);
                json.WriteString("direction", target.LowerIsBetter ? "at-most" : "at-least");
                json.WriteBoolean("met", target.Met);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    // Grouped horizontal bars: each insert-or-get and upsert scenario as a share of the best raw Npgsql strategy of its
    // configuration (1.0 = the faster raw strategy), with the pgbench limit drawn as a tick and the 0.95 goal as a line.
    private static string Svg(List<Result> results)
    {
        string[] scenarios = ["sdk", "raw-insert-first", "raw-select-first", "raw-do-nothing-then-select", "catch-23505", "sdk-upsert", "raw-upsert"];
        var colors = new Dictionary<string, string>
        {
            ["sdk"] = "#1f77b4", ["raw-insert-first"] = "#ff7f0e", ["raw-select-first"] = "#2ca02c", ["raw-do-nothing-then-select"] = "#8c564b",
            ["catch-23505"] = "#d62728", ["sdk-upsert"] = "#1f77b4", ["raw-upsert"] = "#9467bd",
        };
        var groups = results.Where(r => r.Section is "insert-or-get" or "upsert").GroupBy(r => (r.Section, r.Workload, r.Callers)).ToList();
        const int Bar = 9, Left = 230, Width = 560, Top = 50;
        var scale = 1.6;
        var y = Top;
        var body = new StringBuilder();

        // Where the raw strategies ran with the SDK's pool setting too, the bars compare with those (the issue's goal is the
        // same pool); a run of only those (BENCH_ONLY) would otherwise draw the SDK against itself.
        var samePool = results.Any(r => r.Scenario.StartsWith("raw-", StringComparison.Ordinal) && r.Scenario.EndsWith(SamePool, StringComparison.Ordinal));
        string? Drawn(string scenario) => !samePool || !scenario.StartsWith("raw-", StringComparison.Ordinal)
            ? scenario
            : scenario.EndsWith(SamePool, StringComparison.Ordinal) ? scenario[..^SamePool.Length] : null;
        foreach (var group in groups)
        {
            var rows = group.Where(r => Drawn(r.Scenario) is { } drawn && scenarios.Contains(drawn)).ToList();
            string[] raw = group.Key.Section == "upsert" ? ["raw-upsert"] : InsertOrGetRaw;
            var reference = group.Where(r => Drawn(r.Scenario) is { } drawn && raw.Contains(drawn) && r.Scenario.StartsWith("raw-", StringComparison.Ordinal))
                .Select(r => r.Median).DefaultIfEmpty(group.First().Median).Max();
            var limit = group.Where(r => r.Scenario.StartsWith("pgbench-", StringComparison.Ordinal)).Select(r => r.Median).DefaultIfEmpty(0).Max();
            var height = (rows.Count * Bar) + 8;
            body.AppendLine(Inv, $"""<text x="{Left - 8}" y="{y + (height / 2) + 4}" text-anchor="end">{Escape($"{group.Key.Section} {group.Key.Workload} ×{group.Key.Callers}")}</text>""");
            foreach (var r in rows)
            {
                var w = Math.Min(r.Median / reference, scale) / scale * Width;
                body.AppendLine(Inv, $"""<rect x="{Left}" y="{y}" width="{w:F1}" height="{Bar - 1}" fill="{colors[Drawn(r.Scenario)!]}"><title>{Escape(r.Scenario)}: {r.Median:F0} ops/s ({r.Median / reference:F2}x)</title></rect>""");
                body.AppendLine(Inv, $"""<text x="{Left + w + 3:F1}" y="{y + Bar - 1}" font-size="8">{r.Median / reference:F2}</text>""");
                y += Bar;
            }

            if (limit > 0)
            {
                var x = Left + (Math.Min(limit / reference, scale) / scale * Width);
                body.AppendLine(Inv, $"""<line x1="{x:F1}" y1="{y - (rows.Count * Bar)}" x2="{x:F1}" y2="{y}" stroke="#000" stroke-width="2"><title>pgbench limit {limit:F0} ops/s ({limit / reference:F2}x)</title></line>""");
            }

            y += 8;
        }

        var goal = Left + (0.95 / scale * Width);
        var one = Left + (1.0 / scale * Width);
        var legend = new StringBuilder();
        var lx = 10;
        foreach (var s in scenarios.Take(5).Append("raw-upsert"))
        {
            legend.AppendLine(Inv, $"""<rect x="{lx}" y="28" width="10" height="10" fill="{colors[s]}"/><text x="{lx + 14}" y="37">{s}</text>""");
            lx += 30 + (s.Length * 6);
        }

        return $"""
            <svg xmlns="http://www.w3.org/2000/svg" width="{Left + Width + 60}" height="{y + 40}" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="#fff"/>
            <text x="10" y="18" font-size="13" font-weight="bold">IdempotentWrites vs raw Npgsql: ops/s as a share of the faster raw strategy{(samePool ? " with the same pool setting" : string.Empty)} (medians; black tick = pgbench limit)</text>
            {legend}<line x1="{one:F1}" y1="{Top - 4}" x2="{one:F1}" y2="{y}" stroke="#888"/>
            <line x1="{goal:F1}" y1="{Top - 4}" x2="{goal:F1}" y2="{y}" stroke="#d62728" stroke-dasharray="4 3"/>
            <text x="{goal - 2:F1}" y="{y + 14}" text-anchor="end" fill="#d62728">goal 0.95</text><text x="{one + 2:F1}" y="{y + 14}">1.0 = best raw</text>
            {body}</svg>
            """;
    }

    private static string Escape(string s) => SecurityElement.Escape(s);

    // One target line: met when Measured >= Goal, or Measured <= Goal when lower is better.
    private sealed record Target(string Name, double Measured, double Goal, bool LowerIsBetter = false)
    {
        public bool Met => LowerIsBetter ? Measured <= Goal : Measured >= Goal;
    }
}

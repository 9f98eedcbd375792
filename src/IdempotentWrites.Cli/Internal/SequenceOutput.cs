// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace IdempotentWrites.Cli.Internal;

// Human and JSON renderings of the doctor's results. Values of rows (personal data) are never printed here; sequence values are.
internal static class SequenceOutput
{
    public static void WriteCheck(TextWriter output, SequenceCheckReport report, IReadOnlyList<string> schemas, string connectionArguments = "")
    {
        if (report.Findings.Count == 0)
        {
            output.WriteLine($"No column draws from a sequence{SchemaNote(schemas)}.");
            return;
        }

        var rows = new List<string[]> { new[] { "STATUS", "SEQUENCE", "NEXT", "DATA", "REQUIRED", "COLUMNS" } };
        rows.AddRange(report.Findings.Select(f => new[]
        {
            Status(f.Status),
            f.DisplayName,
            Value(f.NextValue),
            f.DataExtreme is null ? "-" : $"{(f.IsDescending ? "min " : string.Empty)}{Value(f.DataExtreme)}",
            Value(f.RequiredNextValue),
            string.Join(", ", f.Columns.Select(c => c.ToString())),
        }));
        WriteTable(output, rows, rightAligned: [2, 3, 4]);
        output.WriteLine();
        foreach (var finding in report.Findings.Where(f => f.Reason is not null))
        {
            output.WriteLine($"{Status(finding.Status)} {finding.DisplayName}: {finding.Reason}");
        }

        foreach (var finding in report.NearlyExhausted)
        {
            output.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"warning: {finding.DisplayName} is nearly exhausted: {finding.UsedFraction * 100:0.0}% of its " +
                    $"range is used " +
                    $"({(finding.IsDescending ? "MINVALUE " + Value(finding.MinValue) : "MAXVALUE " + Value(finding.MaxValue))}; " +
                    $"a smaller column type ends it sooner)."));
        }

        var counts = report.Findings.GroupBy(f => f.Status).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{Shell.Count(report.Findings.Count, "sequence")}{SchemaNote(schemas)}: " +
            $"{Count(counts, SequenceStatus.Drifted)} drifted, {Count(counts, SequenceStatus.Healthy)} healthy, " +
            $"{Count(counts, SequenceStatus.Ahead)} ahead, {Count(counts, SequenceStatus.Skipped)} skipped " +
            $"({report.Elapsed.TotalSeconds:0.00} s)."));
        if (report.HasDrift)
        {
            output.WriteLine(
                $"Repair: iw sequences fix{SchemaArguments(schemas)}{connectionArguments}   (iw sequences fix " +
                $"--dry-run{SchemaArguments(schemas)}{connectionArguments} prints the SQL first)");
        }
    }

    public static void WriteFix(TextWriter output, SequenceRepairReport report, IReadOnlyList<string> schemas)
    {
        foreach (var repair in report.Repairs)
        {
            var columns = string.Join(", ", repair.Columns.Select(c => c.DisplayName));
            switch (repair.Outcome)
            {
                case SequenceRepairOutcome.Planned:
                    output.WriteLine(
                        $"-- {repair.DisplayName} ({columns}): next {Value(repair.NextValueBefore)} -> " +
                        $"{Value(repair.NextValueAfter)}, data {Value(repair.DataExtreme)}");
                    foreach (var statement in repair.Statements)
                    {
                        output.WriteLine(statement);
                    }

                    output.WriteLine();
                    break;
                case SequenceRepairOutcome.Repaired:
                    output.WriteLine(
                        $"repaired   {repair.DisplayName} ({columns}): next {Value(repair.NextValueBefore)} -> " +
                        $"{Value(repair.NextValueAfter)} (data {Value(repair.DataExtreme)})");
                    break;
                case SequenceRepairOutcome.Unchanged:
                    output.WriteLine(
                        $"unchanged  {repair.DisplayName} ({columns}): next {Value(repair.NextValueBefore)} is not " +
                        $"behind the data ({Value(repair.DataExtreme)}) any more");
                    break;
                default:
                    output.WriteLine(
                        $"{(repair.Outcome == SequenceRepairOutcome.Failed ? "failed " : "skipped")}    " +
                        $"{repair.DisplayName} ({columns}): {repair.Reason}");
                    break;
            }
        }

        var untouched = report.Check.Findings.Count(f => f.Status is SequenceStatus.Healthy or SequenceStatus.Ahead);
        if (report.Repairs.Count == 0)
        {
            output.WriteLine(
                $"Nothing to repair: {Shell.Count(report.Check.Findings.Count, "sequence")} checked{SchemaNote(schemas)}, none behind its data.");
        }
        else if (report.IsDryRun)
        {
            output.WriteLine(
                $"Dry run: " +
                $"{Shell.Count(report.Repairs.Count(r => r.Outcome == SequenceRepairOutcome.Planned), "sequence")} " +
                $"would be repaired, {report.Repairs.Count(r => r.Outcome == SequenceRepairOutcome.Skipped)} " +
                $"skipped; {untouched} healthy or ahead left alone. Nothing was changed.");
        }
        else
        {
            output.WriteLine(
                $"Repaired {Shell.Count(report.RepairedCount, "sequence")}, " +
                $"{report.Repairs.Count(r => r.Outcome == SequenceRepairOutcome.Skipped)} skipped, " +
                $"{report.Repairs.Count(r => r.Outcome == SequenceRepairOutcome.Failed)} failed; {untouched} " +
                $"healthy or ahead left alone.");
        }
    }

    public static void WriteCheckJson(TextWriter output, SequenceCheckReport report) => WriteJson(output, writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("sequences", report.Findings.Count);
        writer.WriteNumber("drifted", report.Drifted.Count);
        writer.WriteNumber("skipped", report.Skipped.Count);
        writer.WriteNumber("nearlyExhausted", report.NearlyExhausted.Count);
        writer.WriteNumber("elapsedMilliseconds", (long)report.Elapsed.TotalMilliseconds);
        writer.WriteStartArray("findings");
        foreach (var finding in report.Findings)
        {
            WriteFinding(writer, finding);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    });

    public static void WriteFixJson(TextWriter output, SequenceRepairReport report) => WriteJson(output, writer =>
    {
        writer.WriteStartObject();
        writer.WriteBoolean("dryRun", report.IsDryRun);
        writer.WriteNumber("checked", report.Check.Findings.Count);
        writer.WriteNumber("repaired", report.RepairedCount);
        writer.WriteStartArray("repairs");
        foreach (var repair in report.Repairs)
        {
            writer.WriteStartObject();
            writer.WriteString("schema", repair.Schema);
            writer.WriteString("name", repair.Name);
            writer.WriteString("outcome", Outcome(repair.Outcome));
            WriteNumber(writer, "nextValueBefore", repair.NextValueBefore);
            WriteNumber(writer, "nextValueAfter", repair.NextValueAfter);
            WriteNumber(writer, "dataExtreme", repair.DataExtreme);
            WriteNumber(writer, "requiredNextValue", repair.RequiredNextValue);
            writer.WriteString("reason", repair.Reason);
            WriteColumns(writer, repair.Columns);
            writer.WriteStartArray("statements");
            foreach (var statement in repair.Statements)
            {
                writer.WriteStringValue(statement);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("findings");
        foreach (var finding in report.Check.Findings)
        {
            WriteFinding(writer, finding);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    });

    public static void WriteConversion(TextWriter output, IdentityConversion conversion)
    {
        var column = $"{conversion.Schema}.{conversion.Table}.{conversion.Column}";
        if (!conversion.Applied)
        {
            output.WriteLine(
                $"-- {column}: serial -> GENERATED BY DEFAULT AS IDENTITY, next value {Value(conversion.NextValue)} (dry run: nothing was changed)");
            foreach (var statement in conversion.Statements)
            {
                output.WriteLine(statement);
            }

            return;
        }

        output.WriteLine(
            $"Converted {column} to GENERATED BY DEFAULT AS IDENTITY (sequence " +
            $"{conversion.SequenceSchema}.{conversion.SequenceName}); the next default insert gets " +
            $"{Value(conversion.NextValue)}.");
    }

    public static void WriteDiagnosis(TextWriter output, DuplicateKeyDiagnosis diagnosis, bool showValues, string connectionArguments = "")
    {
        output.WriteLine(
            $"Constraint: {(diagnosis.IsPrimaryKey ? "primary key" : "unique")} {diagnosis.Constraint} on " +
            $"{diagnosis.Schema}.{diagnosis.Table} ({string.Join(", ", diagnosis.KeyColumns)})");
        output.WriteLine($"Cause:      {Cause(diagnosis.Cause)}");
        if (diagnosis.KeyValues is { } values)
        {
            var existing = diagnosis.ExistingRowFound switch
            {
                true => "a row with this key exists",
                false => "no row with this key exists now",
                null => "whether a row with this key exists could not be checked",
            };
            output.WriteLine(showValues
                ? $"Key:        {string.Join(", ", values.Select(v => $"{v.Key} = {v.Value ?? "NULL"}"))} ({existing})"
                : $"Key:        values hidden, pass --show-values to print them ({existing})");
        }

        output.WriteLine(diagnosis.Explanation);
        if (diagnosis.Cause == DuplicateKeyCause.SequenceDrift)
        {
            output.WriteLine(
                $"Fix:        iw sequences fix --schema {Shell.Quote(diagnosis.Schema)}{connectionArguments}   (iw " +
                $"sequences fix --dry-run --schema {Shell.Quote(diagnosis.Schema)}{connectionArguments} prints the " +
                $"SQL first)");
        }
    }

    public static string Status(SequenceStatus status) => status switch
    {
        SequenceStatus.Healthy => "healthy",
        SequenceStatus.Ahead => "ahead",
        SequenceStatus.Drifted => "drifted",
        _ => "skipped",
    };

    private static string Cause(DuplicateKeyCause cause) => cause switch
    {
        DuplicateKeyCause.SequenceDrift => "sequence drift (the sequence is behind its data)",
        DuplicateKeyCause.NaturalKeyDuplicate => "natural-key duplicate (a row with this key already exists)",
        DuplicateKeyCause.ExplicitIdConflict => "explicit-id conflict (the key was supplied, not generated)",
        _ => "race (concurrent writers)",
    };

    private static string Outcome(SequenceRepairOutcome outcome) => outcome.ToString().ToLowerInvariant();

    private static string Value(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static int Count(Dictionary<SequenceStatus, int> counts, SequenceStatus status) => counts.GetValueOrDefault(status);

    private static string SchemaNote(IReadOnlyList<string> schemas)
        => schemas.Count == 0 ? string.Empty : $" in schema{(schemas.Count == 1 ? string.Empty : "s")} {string.Join(", ", schemas)}";

    private static string SchemaArguments(IReadOnlyList<string> schemas) => string.Concat(schemas.Select(s => $" --schema {Shell.Quote(s)}"));

    private static void WriteTable(TextWriter output, List<string[]> rows, int[] rightAligned)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (var i = 0; i < row.Length; i++)
            {
                var cell = i == row.Length - 1 ? row[i] : rightAligned.Contains(i) ? row[i].PadLeft(widths[i]) : row[i].PadRight(widths[i]);
                line.Append(cell).Append(i == row.Length - 1 ? string.Empty : "  ");
            }

            output.WriteLine(line.ToString().TrimEnd());
        }
    }

    private static void WriteFinding(Utf8JsonWriter writer, SequenceFinding finding)
    {
        writer.WriteStartObject();
        writer.WriteString("schema", finding.Schema);
        writer.WriteString("name", finding.Name);
        writer.WriteString("status", Status(finding.Status));
        WriteNumber(writer, "nextValue", finding.NextValue);
        WriteNumber(writer, "dataExtreme", finding.DataExtreme);
        WriteNumber(writer, "requiredNextValue", finding.RequiredNextValue);
        writer.WriteNumber("start", finding.StartValue);
        writer.WriteNumber("increment", finding.Increment);
        writer.WriteNumber("minValue", finding.MinValue);
        writer.WriteNumber("maxValue", finding.MaxValue);
        writer.WriteNumber("usedFraction", Math.Round(finding.UsedFraction, 6));
        writer.WriteBoolean("nearlyExhausted", finding.IsNearlyExhausted);
        writer.WriteString("reason", finding.Reason);
        WriteColumns(writer, finding.Columns);
        writer.WriteEndObject();
    }

    private static void WriteColumns(Utf8JsonWriter writer, IReadOnlyList<SequenceColumn> columns)
    {
        writer.WriteStartArray("columns");
        foreach (var column in columns)
        {
            writer.WriteStartObject();
            writer.WriteString("schema", column.Schema);
            writer.WriteString("table", column.Table);
            writer.WriteString("column", column.Column);
            writer.WriteString("kind", column.Kind switch
            {
                SequenceColumnKind.Serial => "serial",
                SequenceColumnKind.IdentityAlways => "identity-always",
                SequenceColumnKind.IdentityByDefault => "identity-by-default",
                _ => "default-nextval",
            });
            writer.WriteString("dataType", column.DataType);
            writer.WriteBoolean("partitioned", column.IsPartitioned);
            writer.WriteString("notCompared", column.NotComparedReason);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void WriteJson(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(writer);
        }

        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}

// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.CommandLine;
using System.Globalization;
using System.Text;
using IdempotentWrites.Internal.Bulk;
using Npgsql;

namespace IdempotentWrites.Cli.Internal;

// `iw import <file.csv> --table t --conflict-on col[,col]`: TextBulkWriter over a CSV file whose header names the columns.
// Chunks are staged with COPY … CSV (PostgreSQL parses the values as the columns' types), then moved by the classifying
// INSERT … SELECT … ON CONFLICT of InsertManyAsync. Exit 0 on success, 2 on any error.
internal static class ImportCommand
{
    // The target is checked with the writer's own check (TextTarget, linked) before the file is read, so its errors name
    // the CSV header and the options the user typed.
    private static readonly TextTarget.Wording Wording = new("the CSV header", "--conflict-on", CliCommands.SchemaHint);

    public static Command Build(CliContext context, Option<string?> connection)
    {
        var file = new Argument<FileInfo>("file")
        {
            Description = "The CSV file (UTF-8, RFC 4180). The first line names the columns. An unquoted empty field is NULL, " +
                "\"\" is an empty string.",
        };
        var table = new Option<string>("--table") { Description = "The target table: name or schema.name (case-sensitive).", Required = true };
        var schema = new Option<string?>("--schema") { Description = "The table's schema, for names that contain a dot (default: the search_path)." };
        var conflictOn = new Option<string>("--conflict-on")
        {
            Description = "The conflict key: column[,column...] of a unique index or constraint.",
            Required = true,
        };
        var upsert = new Option<bool>("--upsert")
        {
            Description = "Update rows whose key exists (the last row of a key in a chunk wins) instead of skipping them.",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Count what the import would do; write nothing." };
        var singleTransaction = new Option<bool>("--single-transaction")
        {
            Description = "Import the whole file in one transaction: all or nothing (slower; an error or Ctrl+C writes nothing).",
        };
        var chunkSize = CliCommands.WholeNumberOption("--chunk-size", "Rows per transaction.", BulkWriteOptions.DefaultChunkSize);
        var command = new Command(
            "import",
            "Import a CSV file idempotently: rows whose key exists are skipped (or updated with --upsert) and " +
            "reported; re-running an interrupted import is safe. Exit code 0: imported, 2: error.")
        {
            file, table, schema, conflictOn, upsert, dryRun, chunkSize, singleTransaction,
        };
        command.SetAction((result, cancellationToken) => CliCommands.RunAsync(context, result.GetValue(connection), async dataSource =>
        {
            var path = result.GetValue(file)!;
            if (Directory.Exists(path.FullName))
            {
                await context.Error.WriteLineAsync($"iw: error: {path.FullName} is a directory; give the path of the CSV file").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            if (!path.Exists)
            {
                await context.Error.WriteLineAsync($"iw: error: {path.FullName}: no such file").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            var size = result.GetValue(chunkSize);
            if (size is < 1 or > BulkWriteOptions.MaxChunkSize)
            {
                await context.Error.WriteLineAsync(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"iw: error: --chunk-size must be between 1 and {BulkWriteOptions.MaxChunkSize:N0} rows; it " +
                        $"is {size}.")).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            var options = new BulkWriteOptions { ChunkSize = size, MaxReportedRows = 10, SingleTransaction = result.GetValue(singleTransaction) };
            var (schemaName, tableName) = TableName.Parse(result.GetValue(table)!, result.GetValue(schema));
            var keys = result.GetValue(conflictOn)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return await RunAsync(
                context,
                dataSource,
                path,
                schemaName,
                tableName,
                keys,
                result.GetValue(dryRun),
                result.GetValue(upsert),
                options,
                cancellationToken).ConfigureAwait(false);
        }));
        return command;
    }

    private static async Task<int> RunAsync(
        CliContext context,
        NpgsqlDataSource dataSource,
        FileInfo path,
        string? schema,
        string table,
        string[] keys,
        bool dryRun,
        bool upsert,
        BulkWriteOptions options,
        CancellationToken cancellationToken)
    {
        // 64 KB reads on both levels: the reader's own buffer defaults to 1 KB, one system call per KB of the file.
        using var stream = new StreamReader(
            new FileStream(path.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0),
            new UTF8Encoding(false, true),
            detectEncodingFromByteOrderMarks: true,
            bufferSize: 1 << 16);
        var csv = new CsvReader(stream);
        CsvRecord? first;
        try
        {
            first = csv.Read(null);
        }
        catch (CsvFormatException ex)
        {
            // Read before anything is written: worded like the header's own errors ("file line 1: …").
            throw new FormatException($"{path.Name} {ex.Message}", ex);
        }

        var header = first ?? throw new FormatException($"{path.Name} is empty: the first line must name the columns");
        var columns = header.Fields.Select(
            (name, i) => name ?? throw new FormatException($"{path.Name} line 1: header field {i + 1} is empty")).ToArray();
        await TextTarget.ResolveAsync(dataSource, schema, table, columns, keys, Wording, cancellationToken).ConfigureAwait(false);
        var target = new TextBulkTarget(schema, table, columns, keys);
        var writer = new TextBulkWriter(dataSource);

        var progress = context.ShowProgress ? new ImportProgress(context.Error) : null;
        options.Progress = progress;
        try
        {
            var keyFields = keys.Select(k => Array.IndexOf(columns, k)).ToArray();
            var records = Records(csv, columns, keyFields, cancellationToken);
            var report = await (dryRun ? writer.PreviewConflictsAsync(target, records, options, cancellationToken)
                : upsert ? writer.UpsertManyAsync(target, records, options, cancellationToken)
                : writer.InsertManyAsync(target, records, options, cancellationToken)).ConfigureAwait(false);
            progress?.Clear();
            await WriteSummaryAsync(context.Output, path.Name, report, upsert).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (BulkWriteException ex)
        {
            progress?.Clear();
            var cause = ex.InnerException switch
            {
                CsvFormatException format => $"{path.Name}: {format.Message}",
                BulkValueException { Row: CsvRecord record, InnerException: PostgresException pg } value
                    => $"{path.Name}: line {record.Line}: {OneLine(pg.MessageText)}" +
                        (value.ColumnName is { } column ? $" (column {column})" : string.Empty),
                { } inner => CliErrors.Describe(inner, null),
                null => ex.Message,
            };
            await context.Error.WriteLineAsync($"iw: error: {cause}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(ex.Report.Chunks == 0
                ? "iw: nothing was written."
                : $"iw: the first {Shell.Count(ex.Report.RowsRead, "data row")} " +
                    $"{(ex.Report.RowsRead == 1 ? "is" : "are")} imported " +
                    $"({Shell.Count(ex.Report.Chunks, "chunk")}: {ex.Report.Inserted:N0} inserted, " +
                    $"{ex.Report.Existing:N0} already existed); nothing of the failed chunk was written. Fix the " +
                    $"file and run the same import again.").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (BulkWriteCanceledException ex)
        {
            progress?.Clear();
            await context.Error.WriteLineAsync(
                $"iw: error: cancelled after {Shell.Count(ex.Report.RowsRead, "data row")} " +
                $"({Shell.Count(ex.Report.Chunks, "chunk")} committed); run the same import again to finish it.").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    private static async IAsyncEnumerable<CsvRecord> Records(
        CsvReader csv,
        string[] columns,
        int[] keyFields,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        while (csv.Read(columns.Length) is { } record)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // A NULL key matches no existing row (NULLs are distinct), so the row would be inserted again on every run.
            foreach (var field in keyFields)
            {
                if (record.IsNull(field))
                {
                    throw new CsvFormatException(
                        record.Line,
                        $"the key column \"{columns[field]}\" is empty (NULL); every row needs a value in the --conflict-on columns");
                }
            }

            yield return record;
        }
    }

    private static async Task WriteSummaryAsync(TextWriter output, string file, BulkWriteReport<CsvRecord> report, bool upsert)
    {
        var sb = new StringBuilder();
        sb.AppendLine(
            CultureInfo.InvariantCulture,
            $"{(report.IsPreview ? "dry run, nothing written: " : "imported ")}{file} into {report.Table}: " +
            $"{Shell.Count(report.RowsRead, "data row")} in {Shell.Count(report.Chunks, "chunk")}, " +
            $"{report.Elapsed.TotalSeconds:0.00} s");
        if (report.IsPreview)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  would insert        {report.Inserted,12:N0}");
            sb.AppendLine(
                CultureInfo.InvariantCulture,
                $"  {(upsert ? "would update or keep" : "already exist"),-20}{report.Existing,12:N0}{Lines(report.ExistingRows, report.Existing)}");
        }
        else
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  inserted            {report.Inserted,12:N0}");
            if (upsert)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  updated             {report.Updated,12:N0}");
                sb.AppendLine(CultureInfo.InvariantCulture, $"  unchanged           {report.Unchanged,12:N0}");
            }
            else
            {
                sb.AppendLine(
                    CultureInfo.InvariantCulture,
                    $"  already existed     {report.Existing,12:N0}{Lines(report.ExistingRows, report.Existing)}");
            }
        }

        var repeats = Lines(report.DuplicateRows, report.DuplicatesInInput, report.IsPreview && upsert ? "repeated on line" : "line");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  duplicates in file  {report.DuplicatesInInput,12:N0}{repeats}");
        if (report.SequencesSynchronized > 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  sequences moved past the imported ids: {report.SequencesSynchronized}");
        }

        await output.WriteAsync(sb.ToString()).ConfigureAwait(false);
    }

    // The server quotes the refused value, which may hold line breaks of the file: shown as \n and \r, so the message is one line.
    private static string OneLine(string message)
        => message.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    // A preview lists the later rows of a repeated key (the first is kept when inserting); with --upsert the last row is
    // applied and the earlier ones skipped, so a dry run of it names the repeats without saying which are skipped.
    private static string Lines(IReadOnlyList<CsvRecord> records, long total, string label = "line")
        => records.Count == 0
            ? string.Empty
            : $"   ({label} " +
                string.Join(", ", records.Select(r => r.Line.ToString(CultureInfo.InvariantCulture))) +
                (total > records.Count ? ", …" : string.Empty) +
                ")";

    // The running totals, redrawn after each chunk.
    private sealed class ImportProgress(TextWriter writer) : TerminalLine(writer), IProgress<BulkWriteReport>
    {
        public void Report(BulkWriteReport value)
            => Draw(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"importing: {Shell.Count(value.RowsRead, "row")}, {Shell.Count(value.Chunks, "chunk")}, " +
                    $"{value.Inserted + value.Updated:N0} written, {value.Existing:N0} existed, " +
                    $"{value.RowsRead / Math.Max(value.Elapsed.TotalSeconds, 0.001):N0} rows/s"));
    }
}

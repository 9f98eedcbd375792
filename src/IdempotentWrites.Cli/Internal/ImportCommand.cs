// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using IdempotentWrites.Internal.Bulk;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Polly;

namespace IdempotentWrites.Cli.Internal;

// `iw import <file.csv> --table t --conflict-on col[,col]`: the bulk engine of InsertManyAsync over a CSV file whose
// header names the columns. Chunks are staged with COPY … CSV (PostgreSQL parses the values as the columns' types),
// then moved by the same classifying INSERT … SELECT … ON CONFLICT. Exit 0 on success, 2 on any error.
internal static partial class ImportCommand
{
    public static Command Build(CliContext context, Option<string?> connection)
    {
        var file = new Argument<FileInfo>("file") { Description = "The CSV file (UTF-8, RFC 4180). The first line names the columns. An unquoted empty field is NULL, \"\" is an empty string." };
        var table = new Option<string>("--table") { Description = "The target table: name or schema.name (case-sensitive).", Required = true };
        var schema = new Option<string?>("--schema") { Description = "The table's schema, for names that contain a dot (default: the search_path)." };
        var conflictOn = new Option<string>("--conflict-on") { Description = "The conflict key: column[,column...] of a unique index or constraint.", Required = true };
        var upsert = new Option<bool>("--upsert") { Description = "Update rows whose key exists (the last row of a key in a chunk wins) instead of skipping them." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Count what the import would do; write nothing." };
        var chunkSize = new Option<int>("--chunk-size") { Description = "Rows per transaction.", DefaultValueFactory = _ => BulkWriteOptions.DefaultChunkSize };
        var command = new Command("import", "Import a CSV file idempotently: rows whose key exists are skipped (or updated with --upsert) and reported; re-running an interrupted import is safe. Exit code 0: imported, 2: error.")
        {
            file, table, schema, conflictOn, upsert, dryRun, chunkSize,
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
                await context.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"iw: error: --chunk-size must be between 1 and {BulkWriteOptions.MaxChunkSize:N0} rows; it is {size}.")).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            var options = new BulkWriteOptions { ChunkSize = size, MaxReportedRows = 10 };
            var (schemaName, tableName) = TableName.Parse(result.GetValue(table)!, result.GetValue(schema));
            var keys = result.GetValue(conflictOn)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var mode = result.GetValue(dryRun) ? BulkMode.Preview : result.GetValue(upsert) ? BulkMode.Upsert : BulkMode.Insert;
            return await RunAsync(context, dataSource, path, schemaName, tableName, keys, mode, result.GetValue(upsert), options, cancellationToken).ConfigureAwait(false);
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
        BulkMode mode,
        bool upsert,
        BulkWriteOptions options,
        CancellationToken cancellationToken)
    {
        using var stream = new StreamReader(path.FullName, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
        var csv = new CsvReader(stream);
        var header = csv.Read(null) ?? throw new FormatException($"{path.Name} is empty: the first line must name the columns");
        var columns = header.Fields.Select((name, i) => name ?? throw new FormatException($"{path.Name} line 1: header field {i + 1} is empty")).ToArray();
        var target = await ResolveAsync(dataSource, schema, table, columns, keys, cancellationToken).ConfigureAwait(false);

        var progress = context.ShowProgress ? new ImportProgress(context.Error) : null;
        options.Progress = progress;
        var engine = new BulkEngine<CsvRecord>
        {
            DataSource = dataSource,
            Pipeline = ResiliencePipeline.Empty,
            Table = target,
            Mode = mode,
            Options = options,
            Logger = NullLogger.Instance,
            StageAsync = (connection, chunk, first, token) => StageAsync(connection, target, chunk, first, token),
            TranslateAsync = async (error, token) =>
            {
                // The SDK's typed errors name the table, constraint and columns (never the values: they may be personal data).
                var connection = await dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    return await new ErrorTranslator(NullLogger.Instance).TranslateAsync(error, connection, null, null, token).ConfigureAwait(false);
                }
            },
            SequenceColumns = columns,
        };

        try
        {
            var keyFields = keys.Select(k => Array.IndexOf(columns, k)).ToArray();
            var report = await engine.RunAsync(Records(csv, columns, keyFields, cancellationToken), cancellationToken).ConfigureAwait(false);
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
                { } inner => CliErrors.Describe(inner, null),
                null => ex.Message,
            };
            await context.Error.WriteLineAsync($"iw: error: {cause}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(ex.Report.Chunks == 0
                ? "iw: nothing was written."
                : $"iw: the first {Shell.Count(ex.Report.RowsRead, "data row")} {(ex.Report.RowsRead == 1 ? "is" : "are")} imported ({Shell.Count(ex.Report.Chunks, "chunk")}: {ex.Report.Inserted:N0} inserted, {ex.Report.Existing:N0} already existed); nothing of the failed chunk was written. Fix the file and run the same import again.").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (BulkWriteCanceledException ex)
        {
            progress?.Clear();
            await context.Error.WriteLineAsync($"iw: error: cancelled after {Shell.Count(ex.Report.RowsRead, "data row")} ({Shell.Count(ex.Report.Chunks, "chunk")} committed); run the same import again to finish it.").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    private static async IAsyncEnumerable<CsvRecord> Records(CsvReader csv, string[] columns, int[] keyFields, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        while (csv.Read(columns.Length) is { } record)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // A NULL key matches no existing row (NULLs are distinct), so the row would be inserted again on every run.
            foreach (var field in keyFields.Where(f => record.Fields[f] is null))
            {
                throw new CsvFormatException(record.Line, $"the key column \"{columns[field]}\" is empty (NULL); every row needs a value in the --conflict-on columns");
            }

            yield return record;
        }
    }

    private static async Task<BulkTable> ResolveAsync(NpgsqlDataSource dataSource, string? schema, string table, string[] columns, string[] keys, CancellationToken cancellationToken)
    {
        if (keys.Length == 0)
        {
            throw new ArgumentException("--conflict-on names no column");
        }

        var qualified = Sql.QualifiedName(schema, table);
        var catalog = new Dictionary<string, string>(StringComparer.Ordinal);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = new NpgsqlCommand(
                "SELECT a.attname, a.attidentity::text || a.attgenerated::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
                connection);
            command.Parameters.Add(new NpgsqlParameter { Value = qualified });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    catalog[reader.GetString(0)] = reader.GetString(1);
                }
            }
        }

        var display = schema is null ? table : schema + "." + table;
        if (catalog.Count == 0)
        {
            if (schema is not null)
            {
                await CliCatalog.EnsureSchemasAsync(dataSource, [schema], cancellationToken).ConfigureAwait(false);
            }

            throw new ArgumentException(await CliCatalog.DescribeMissingTableAsync(dataSource, schema, table, cancellationToken).ConfigureAwait(false));
        }

        foreach (var column in columns.Where(c => !catalog.ContainsKey(c) || catalog[c] == "s"))
        {
            if (catalog.ContainsKey(column))
            {
                throw new ArgumentException($"the CSV header names column \"{column}\", which is a generated column of {display}: it cannot be written");
            }

            throw new ArgumentException($"the CSV header names column \"{column}\", which {display} does not have (columns: {string.Join(", ", catalog.Keys)})");
        }

        foreach (var duplicate in columns.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            throw new ArgumentException($"the CSV header names column \"{duplicate.Key}\" twice");
        }

        foreach (var key in keys.Where(k => !columns.Contains(k, StringComparer.Ordinal)))
        {
            throw new ArgumentException($"--conflict-on column \"{key}\" is not in the CSV header ({string.Join(", ", columns)})");
        }

        await EnsureArbiterAsync(dataSource, qualified, display, keys, cancellationToken).ConfigureAwait(false);
        return new BulkTable
        {
            Schema = schema,
            Table = table,
            Columns = [.. columns.Select(c => new BulkColumn(c, "text"))],
            Keys = [.. keys.Select(Sql.Quote)],
            ArbiterClause = "(" + string.Join(", ", keys.Select(Sql.Quote)) + ")",
            // GENERATED ALWAYS AS IDENTITY columns take the file's values on insert (OVERRIDING SYSTEM VALUE), never on update.
            UpdateColumns = [.. columns.Where(c => !keys.Contains(c, StringComparer.Ordinal) && catalog[c] != "a").Select(Sql.Quote)],
            OverridingSystemValue = columns.Any(c => catalog[c] == "a"),
        };
    }

    // ON CONFLICT (keys) needs a unique index or constraint on exactly these columns, in any order, without a predicate
    // or expressions; otherwise PostgreSQL refuses the INSERT with 42P10. Checked up front, as the library's mapping check does.
    private static async Task EnsureArbiterAsync(NpgsqlDataSource dataSource, string qualified, string display, string[] keys, CancellationToken cancellationToken)
    {
        const string UniqueIndexes =
            "SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) k JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k), "
            + "i.indpred IS NOT NULL OR i.indexprs IS NOT NULL, i.indimmediate "
            + "FROM pg_catalog.pg_index i WHERE i.indrelid = pg_catalog.to_regclass($1) AND i.indisunique AND i.indisvalid";
        var found = new List<(string[] Columns, bool Partial, bool Immediate)>();
        var command = dataSource.CreateCommand(UniqueIndexes);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = qualified });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    found.Add((reader.GetFieldValue<string[]>(0), reader.GetBoolean(1), reader.GetBoolean(2)));
                }
            }
        }

        var wanted = new HashSet<string>(keys, StringComparer.Ordinal);
        var matching = found.Where(i => !i.Partial && wanted.SetEquals(i.Columns) && i.Columns.Length == wanted.Count).ToList();
        if (matching.Any(i => i.Immediate))
        {
            return;
        }

        if (matching.Count > 0)
        {
            // ON CONFLICT cannot use a DEFERRABLE constraint as its arbiter (PostgreSQL refuses the INSERT).
            throw new ArgumentException(
                $"--conflict-on ({string.Join(", ", keys)}): the unique constraint of {display} on these columns is DEFERRABLE, and ON CONFLICT cannot use a deferrable constraint. "
                + $"Make it NOT DEFERRABLE (ALTER TABLE {qualified} ALTER CONSTRAINT <name> NOT DEFERRABLE), or add a unique index: CREATE UNIQUE INDEX ON {qualified} ({string.Join(", ", keys.Select(Sql.Quote))}).");
        }

        var existing = found.Where(i => !i.Partial && i.Immediate).Select(i => "(" + string.Join(", ", i.Columns) + ")").ToList();
        throw new ArgumentException(
            $"--conflict-on ({string.Join(", ", keys)}): {display} has no unique index or constraint on exactly these columns, so existing rows cannot be recognised. "
            + (existing.Count == 0 ? $"{display} has no unique index at all; " : $"Its unique keys: {string.Join(", ", existing)}; pass one of them, or ")
            + $"create one: CREATE UNIQUE INDEX ON {qualified} ({string.Join(", ", keys.Select(Sql.Quote))}).");
    }

    // The chunk goes to the staging table as CSV; PostgreSQL converts each value to the column's type. A value it refuses
    // fails the COPY (so the chunk), and its error's "line N" is mapped back to the file's line.
    private static async Task StageAsync(NpgsqlConnection connection, BulkTable table, IReadOnlyList<CsvRecord> chunk, long first, CancellationToken cancellationToken)
    {
        try
        {
            var writer = await connection.BeginTextImportAsync(BulkSql.CopyCsv(table), cancellationToken).ConfigureAwait(false);
            await using (writer.ConfigureAwait(false))
            {
                var line = new StringBuilder();
                for (var i = 0; i < chunk.Count; i++)
                {
                    line.Clear().Append((first + i).ToString(CultureInfo.InvariantCulture));
                    foreach (var field in chunk[i].Fields)
                    {
                        line.Append(',');
                        if (field is not null)
                        {
                            line.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
                        }
                    }

                    line.Append('\n');
                    await writer.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (PostgresException ex) when (ex.Where is { } where && CopyLine().Match(where) is { Success: true } match
            && int.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var record) && record >= 1 && record <= chunk.Count)
        {
            var column = match.Groups[2].Success ? $" (column {match.Groups[2].Value})" : string.Empty;
            throw new CsvFormatException(chunk[record - 1].Line, $"{ex.MessageText}{column}");
        }
    }

    private static async Task WriteSummaryAsync(TextWriter output, string file, BulkWriteReport<CsvRecord> report, bool upsert)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{(report.IsPreview ? "dry run, nothing written: " : "imported ")}{file} into {report.Table}: {Shell.Count(report.RowsRead, "data row")} in {Shell.Count(report.Chunks, "chunk")}, {report.Elapsed.TotalSeconds:0.00} s");
        if (report.IsPreview)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  would insert        {report.Inserted,12:N0}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {(upsert ? "would update or keep" : "already exist"),-20}{report.Existing,12:N0}{Lines(report.ExistingRows, report.Existing)}");
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
                sb.AppendLine(CultureInfo.InvariantCulture, $"  already existed     {report.Existing,12:N0}{Lines(report.ExistingRows, report.Existing)}");
            }
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"  duplicates in file  {report.DuplicatesInInput,12:N0}{Lines(report.DuplicateRows, report.DuplicatesInInput)}");
        if (report.SequencesSynchronized > 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  sequences moved past the imported ids: {report.SequencesSynchronized}");
        }

        await output.WriteAsync(sb.ToString()).ConfigureAwait(false);
    }

    private static string Lines(IReadOnlyList<CsvRecord> records, long total)
        => records.Count == 0 ? string.Empty : $"   (line {string.Join(", ", records.Select(r => r.Line.ToString(CultureInfo.InvariantCulture)))}{(total > records.Count ? ", …" : string.Empty)})";

    [GeneratedRegex(@"^COPY [^,]+, line (\d+)(?:, column ([^:]+))?")]
    private static partial Regex CopyLine();

    // A one-line progress display on standard error, only on a terminal.
    private sealed class ImportProgress(TextWriter writer) : IProgress<BulkWriteReport>
    {
        private int _width;

        public void Report(BulkWriteReport value)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"importing: {Shell.Count(value.RowsRead, "row")}, {Shell.Count(value.Chunks, "chunk")}, {value.Inserted + value.Updated:N0} written, {value.Existing:N0} existed, {value.RowsRead / Math.Max(value.Elapsed.TotalSeconds, 0.001):N0} rows/s");
            _width = Math.Max(_width, line.Length);
            writer.Write("\r" + line.PadRight(_width));
            writer.Flush();
        }

        public void Clear()
        {
            if (_width > 0)
            {
                writer.Write("\r" + new string(' ', _width) + "\r");
                writer.Flush();
            }
        }
    }
}
